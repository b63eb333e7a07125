/*
 * privs.c - resolve the -Z user and switch to it for good. Order matters:
 * groups first (initgroups and setgid need root), the uid last, then prove
 * that root is gone by trying to get it back.
 */
#include "main/privs.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int priv_lookup(const char *name, struct priv_user *u, char *err, size_t errlen)
{
    memset(u, 0, sizeof *u);
    if (strlen(name) >= sizeof u->name) {
        snprintf(err, errlen, "-Z %.40s...: user name too long", name);
        return -1;
    }
    errno = 0;
    struct passwd *pw = getpwnam(name);
    if (!pw) {
        char *end;
        errno = 0;
        unsigned long id = strtoul(name, &end, 10);
        if (*name && !*end && errno == 0)
            pw = getpwuid((uid_t)id);
    }
    if (!pw) {
        snprintf(err, errlen, "-Z %s: no such user: create it (useradd --system %s) or name another",
                 name, name);
        return -1;
    }
    snprintf(u->name, sizeof u->name, "%s", pw->pw_name);
    u->uid = pw->pw_uid;
    u->gid = pw->pw_gid;
    return 0;
}

int priv_drop(const struct priv_user *u, char *err, size_t errlen)
{
    if (geteuid() != 0) {
        if (getuid() == u->uid && geteuid() == u->uid)
            return 0;
        snprintf(err, errlen, "-Z %s: only root can switch user: run sipsift as root", u->name);
        return -1;
    }
    if (initgroups(u->name, u->gid) != 0) {
        snprintf(err, errlen, "-Z %s: initgroups: %s", u->name, strerror(errno));
        return -1;
    }
    if (setgid(u->gid) != 0) {
        snprintf(err, errlen, "-Z %s: setgid(%u): %s", u->name, (unsigned)u->gid, strerror(errno));
        return -1;
    }
    if (setuid(u->uid) != 0) {
        snprintf(err, errlen, "-Z %s: setuid(%u): %s", u->name, (unsigned)u->uid, strerror(errno));
        return -1;
    }
    /* setuid by root sets real, effective and saved ids: none may be 0 now,
     * unless the user asked for root itself. */
    if ((u->uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) ||
        (u->gid != 0 && (setgid(0) == 0 || setegid(0) == 0))) {
        snprintf(err, errlen, "-Z %s: root could be regained after setuid: refusing to run",
                 u->name);
        return -1;
    }
    if (getuid() != u->uid || geteuid() != u->uid || getgid() != u->gid || getegid() != u->gid) {
        snprintf(err, errlen, "-Z %s: ids did not change as asked: refusing to run", u->name);
        return -1;
    }
    return 0;
}
