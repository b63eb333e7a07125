/*
 * privs.h - -Z USER: drop root after the capture devices are open, as
 * tcpdump does (initgroups, setgid, setuid, then check root cannot come back).
 */
#ifndef SIPSIFT_PRIVS_H
#define SIPSIFT_PRIVS_H

#include <stddef.h>
#include <sys/types.h>

struct priv_user {
    char name[64];
    uid_t uid;
    gid_t gid;
};

/* Look name up (a user name or a numeric uid). -1 with a one-line reason in err. */
int priv_lookup(const char *name, struct priv_user *u, char *err, size_t errlen);

/*
 * Become u for good: supplementary groups, group, user, then verify that
 * neither uid nor gid 0 can be regained. Not root and already u: nothing to do.
 * -1 with a one-line reason in err (the caller must then stop).
 */
int priv_drop(const struct priv_user *u, char *err, size_t errlen);

#endif
