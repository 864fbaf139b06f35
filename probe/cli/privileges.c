/* Dropping root: supplementary groups, group, then user (in that order: after setuid the process
 * could no longer change its groups), then a check that nothing privileged is left. */
#include "privileges.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PASSWD_BUFFER_SIZE 16384

/* True when the permitted and effective capability sets are empty. */
static bool capabilities_empty(void)
{
	struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &header, data) != 0)
		return false;
	for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		if (data[i].permitted || data[i].effective)
			return false;
	return true;
}

/* After the switch: every uid and gid is the user's, and root cannot be taken back. */
static int verify_dropped(const struct passwd *pw, char *err, size_t err_size)
{
	uid_t ruid, euid, suid;
	gid_t rgid, egid, sgid;
	if (getresuid(&ruid, &euid, &suid) != 0 || getresgid(&rgid, &egid, &sgid) != 0 ||
	    ruid != pw->pw_uid || euid != pw->pw_uid || suid != pw->pw_uid || rgid != pw->pw_gid ||
	    egid != pw->pw_gid || sgid != pw->pw_gid) {
		snprintf(err, err_size,
			 "--user %s: the switch to uid %u gid %u did not take effect", pw->pw_name,
			 (unsigned)pw->pw_uid, (unsigned)pw->pw_gid);
		return -1;
	}
	if (setuid(0) == 0 || setgid(0) == 0 || !capabilities_empty()) {
		snprintf(
		    err, err_size,
		    "--user %s: the process could still regain root after the switch; refusing "
		    "to run",
		    pw->pw_name);
		return -1;
	}
	return 0;
}

int privileges_drop(const char *user, char *err, size_t err_size)
{
	struct passwd pw, *found = NULL;
	char buffer[PASSWD_BUFFER_SIZE];
	int rc = getpwnam_r(user, &pw, buffer, sizeof(buffer), &found);
	if (!found) {
		snprintf(err, err_size,
			 "--user %s: no such user%s%s; create it with: useradd --system "
			 "--no-create-home --shell /usr/sbin/nologin %s",
			 user, rc ? ": " : "", rc ? strerror(rc) : "", user);
		return -1;
	}
	if (pw.pw_uid == 0) {
		snprintf(err, err_size,
			 "--user %s: that is root; give an unprivileged user such as dnsprobe",
			 user);
		return -1;
	}
	if (geteuid() != 0) {
		if (getuid() == pw.pw_uid && geteuid() == pw.pw_uid)
			return 0;
		snprintf(err, err_size,
			 "--user %s: switching users needs the probe to start as root (it runs as "
			 "uid %u); start it as root or leave out --user",
			 user, (unsigned)geteuid());
		return -1;
	}
	if (initgroups(pw.pw_name, pw.pw_gid) != 0 ||
	    setresgid(pw.pw_gid, pw.pw_gid, pw.pw_gid) != 0 ||
	    setresuid(pw.pw_uid, pw.pw_uid, pw.pw_uid) != 0) {
		snprintf(err, err_size,
			 "--user %s: cannot switch to uid %u gid %u: %s (under systemd, the "
			 "capability bounding set needs CAP_SETUID and CAP_SETGID)",
			 user, (unsigned)pw.pw_uid, (unsigned)pw.pw_gid, strerror(errno));
		return -1;
	}
	if (verify_dropped(&pw, err, err_size) != 0)
		return -1;
	/* No program this process might run can bring privileges back either. */
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	return 0;
}
