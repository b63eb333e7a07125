/*
 * live.c - one live interface: pcap_create, options, pcap_activate, filter,
 * non-blocking reads for a poll loop, and the kernel's drop counters widened
 * to 64 bits. It never prints; error texts name the cause and the fix.
 */
#include "capture/live.h"

#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct live {
    pcap_t *pcap;
    int linktype;
    char link_name[32];
    char warning[PCAP_ERRBUF_SIZE + 64];
    struct live_stats st;
    struct pcap_stat last; /* libpcap's 32-bit counters at the previous refresh */
};

/* pcap_activate's failures in words a user can act on. */
static void activate_error(const char *iface, int rc, pcap_t *p, char *err, size_t errlen)
{
    const char *why = pcap_geterr(p);
    switch (rc) {
    case PCAP_ERROR_NO_SUCH_DEVICE:
        snprintf(err, errlen, "no such interface: list them with 'ip link'");
        break;
    case PCAP_ERROR_PERM_DENIED:
    case PCAP_ERROR_PROMISC_PERM_DENIED:
        snprintf(err, errlen,
                 "permission denied: live capture needs root or CAP_NET_RAW (run as root; "
                 "-Z USER then drops root once the interface is open)");
        break;
    case PCAP_ERROR_IFACE_NOT_UP:
        snprintf(err, errlen, "interface is down: bring it up with 'ip link set %s up'", iface);
        break;
    case PCAP_ERROR_RFMON_NOTSUP:
    case PCAP_ERROR_NOT_RFMON:
        snprintf(err, errlen, "cannot capture: %s", why);
        break;
    default:
        snprintf(err, errlen, "cannot capture: %s", why && *why ? why : pcap_statustostr(rc));
        break;
    }
}

struct live *live_open(const char *iface, const char *bpf, const struct live_cfg *cfg, char *err,
                       size_t errlen)
{
    struct live *l = calloc(1, sizeof *l);
    if (!l) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    l->pcap = pcap_create(iface, ebuf);
    if (!l->pcap) {
        snprintf(err, errlen, "cannot capture: %s", ebuf);
        free(l);
        return NULL;
    }
    /* Options only fail on an already active handle: their results are not errors here. */
    pcap_set_snaplen(l->pcap, cfg->snaplen);
    pcap_set_promisc(l->pcap, 1);
    pcap_set_buffer_size(l->pcap, cfg->buffer_mib * 1024 * 1024);
    pcap_set_timeout(l->pcap, LIVE_TIMEOUT_MS);
    pcap_set_immediate_mode(l->pcap, cfg->immediate ? 1 : 0);
    int rc = pcap_activate(l->pcap);
    if (rc < 0) {
        activate_error(iface, rc, l->pcap, err, errlen);
        goto fail;
    }
    if (rc > 0) /* e.g. PCAP_WARNING_PROMISC_NOTSUP: the capture works, say so once */
        snprintf(l->warning, sizeof l->warning, "%s: %s", pcap_statustostr(rc),
                 pcap_geterr(l->pcap));
    l->linktype = pcap_datalink(l->pcap);
    const char *ln = pcap_datalink_val_to_name(l->linktype);
    if (ln)
        snprintf(l->link_name, sizeof l->link_name, "%s", ln);
    else
        snprintf(l->link_name, sizeof l->link_name, "DLT_%d", l->linktype);
    if (!input_linktype_supported(l->linktype)) {
        snprintf(err, errlen,
                 "link type %s (%d) is not supported: capture on an Ethernet interface or 'any'",
                 l->link_name, l->linktype);
        goto fail;
    }
    if (bpf && *bpf) {
        struct bpf_program prog;
        if (pcap_compile(l->pcap, &prog, bpf, 1, PCAP_NETMASK_UNKNOWN) != 0) {
            snprintf(err, errlen, "bad filter expression '%s': %s", bpf, pcap_geterr(l->pcap));
            goto fail;
        }
        int frc = pcap_setfilter(l->pcap, &prog);
        pcap_freecode(&prog);
        if (frc != 0) {
            snprintf(err, errlen, "cannot apply filter '%s': %s", bpf, pcap_geterr(l->pcap));
            goto fail;
        }
    }
    /* A blocking read on a quiet link may never return (DEPENDENCIES.md):
     * the caller polls the descriptor and reads until nothing is left. */
    if (pcap_setnonblock(l->pcap, 1, ebuf) != 0) {
        snprintf(err, errlen, "cannot set non-blocking mode: %s", ebuf);
        goto fail;
    }
    if (pcap_get_selectable_fd(l->pcap) < 0) {
        snprintf(err, errlen, "this interface has no selectable descriptor");
        goto fail;
    }
    return l;
fail:
    pcap_close(l->pcap);
    free(l);
    return NULL;
}

int live_fd(const struct live *l) { return pcap_get_selectable_fd(l->pcap); }

int live_next(struct live *l, struct frame *f, char *err, size_t errlen)
{
    struct pcap_pkthdr *h;
    const u_char *data;
    int rc = pcap_next_ex(l->pcap, &h, &data);
    if (rc == 0)
        return 0;
    if (rc != 1) {
        const char *why = pcap_geterr(l->pcap);
        snprintf(err, errlen, "capture failed: %s", why && *why ? why : pcap_statustostr(rc));
        return -1;
    }
    f->ts_us = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
    f->caplen = h->caplen;
    f->len = h->len;
    f->linktype = l->linktype;
    f->data = data;
    return 1;
}

const struct live_stats *live_stats(struct live *l)
{
    struct pcap_stat now;
    if (pcap_stats(l->pcap, &now) == 0) {
        /* Unsigned differences survive one wrap of the 32-bit counters. */
        l->st.recv += (u_int)(now.ps_recv - l->last.ps_recv);
        l->st.drop += (u_int)(now.ps_drop - l->last.ps_drop);
        l->st.ifdrop += (u_int)(now.ps_ifdrop - l->last.ps_ifdrop);
        l->last = now;
    }
    return &l->st;
}

const char *live_link_name(const struct live *l) { return l->link_name; }

const char *live_warning(const struct live *l) { return l->warning[0] ? l->warning : NULL; }

void live_close(struct live *l)
{
    if (!l)
        return;
    pcap_close(l->pcap);
    free(l);
}
