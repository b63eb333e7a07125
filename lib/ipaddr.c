/* ipaddr.c - text conversions for struct ip_addr (inet_ntop/inet_pton). */
#include "ipaddr.h"

#include <arpa/inet.h>

const char *ip_format(const struct ip_addr *a, char *buf, size_t n)
{
    const char *r = ip_is_v4(a) ? inet_ntop(AF_INET, a->b + 12, buf, (socklen_t)n)
                                : inet_ntop(AF_INET6, a->b, buf, (socklen_t)n);
    if (!r && n)
        buf[0] = '\0';
    return buf;
}

bool ip_parse(const char *s, struct ip_addr *out)
{
    uint8_t v4[4];
    if (inet_pton(AF_INET, s, v4) == 1) {
        ip_from_v4(out, v4);
        return true;
    }
    return inet_pton(AF_INET6, s, out->b) == 1;
}
