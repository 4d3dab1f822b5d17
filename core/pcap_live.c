/* Live interfaces and privileges (pcap_live.h). */
#define _GNU_SOURCE
#include "pcap_live.h"

#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <linux/if_packet.h>
#include <pwd.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* Joins the AF_PACKET fanout group: the kernel splits the interface's
 * packets among the sockets of the group (hash: a symmetric flow hash,
 * both directions of a connection to the same socket). */
static int join_fanout(pcap_t *p, const struct tm_capture_conf *cc,
    char *err, size_t errlen)
{
#ifdef PACKET_FANOUT
	static const int mode[] = { PACKET_FANOUT_HASH, PACKET_FANOUT_CPU,
		PACKET_FANOUT_QM, PACKET_FANOUT_LB };
	uint32_t v = cc->fanout_group | ((uint32_t)mode[cc->fanout_mode & 3] |
	    (cc->fanout_defrag ? PACKET_FANOUT_FLAG_DEFRAG : 0u)) << 16;

	if (setsockopt(pcap_fileno(p), SOL_PACKET, PACKET_FANOUT, &v,
	    sizeof(v)) != 0) {
		snprintf(err, errlen, "capture.fanout: joining group %u: %s "
		    "(all members need the same mode and flags)",
		    cc->fanout_group, strerror(errno));
		return -1;
	}
	return 0;
#else
	(void)p;
	(void)cc;
	snprintf(err, errlen, "capture.fanout: not supported here");
	return -1;
#endif
}

pcap_t *tm_live_open(const char *iface, const struct tm_capture_conf *cc,
    const char *conf_file, int *nano, int *bad_filter, FILE *log, char *err,
    size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	struct bpf_program prog;
	pcap_t *p;
	int rc;

	ebuf[0] = '\0';
	p = pcap_create(iface, ebuf);
	if (!p) {
		snprintf(err, errlen, "%s: %s", iface, ebuf);
		return NULL;
	}
	pcap_set_snaplen(p, (int)cc->snaplen);
	pcap_set_promisc(p, cc->promiscuous);
	pcap_set_timeout(p, (int)(cc->timeout_ns / 1000000));
	pcap_set_buffer_size(p, (int)cc->buffer);
	*nano = pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO) == 0;
	rc = pcap_activate(p);
	if (rc < 0) {
		if (rc == PCAP_ERROR_PERM_DENIED)
			snprintf(err, errlen, "%s: %s (capturing needs root or "
			    "CAP_NET_RAW)", iface, pcap_geterr(p));
		else if (rc == PCAP_ERROR_NO_SUCH_DEVICE)
			snprintf(err, errlen, "%s: no such interface", iface);
		else
			snprintf(err, errlen, "%s: %s", iface, pcap_geterr(p));
		pcap_close(p);
		return NULL;
	}
	if (rc > 0 && log)
		fprintf(log, "tm: warning: %s: %s\n", iface, rc ==
		    PCAP_WARNING_PROMISC_NOTSUP ? "promiscuous mode not "
		    "supported" : pcap_geterr(p));
	if (*nano && pcap_get_tstamp_precision(p) != PCAP_TSTAMP_PRECISION_NANO)
		*nano = 0;
	if (cc->fanout && join_fanout(p, cc, err, errlen)) {
		pcap_close(p);
		return NULL;
	}
	if (cc->filter && *cc->filter) {
		if (pcap_compile(p, &prog, cc->filter, 1,
		    PCAP_NETMASK_UNKNOWN) != 0) {
			*bad_filter = 1;
			if (conf_file)
				snprintf(err, errlen, "%s:%d:%d: capture.filter: "
				    "%s", conf_file, cc->filter_line,
				    cc->filter_column, pcap_geterr(p));
			else
				snprintf(err, errlen, "filter '%s': %s",
				    cc->filter, pcap_geterr(p));
			pcap_close(p);
			return NULL;
		}
		rc = pcap_setfilter(p, &prog);
		pcap_freecode(&prog);
		if (rc != 0) {
			snprintf(err, errlen, "%s: setting the filter: %s",
			    iface, pcap_geterr(p));
			pcap_close(p);
			return NULL;
		}
	}
	return p;
}

static int give(const char *path, uid_t u, gid_t g, char *err, size_t errlen)
{
	if (lchown(path, u, g) != 0 && errno != ENOENT) {
		snprintf(err, errlen, "%s: chown: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int tm_drop_privileges(const char *user, const char *store,
    const char *sock_path, char *err, size_t errlen)
{
	struct passwd *pw = getpwnam(user);
	char path[4200];
	DIR *d;
	struct dirent *de;

	if (!pw) {
		snprintf(err, errlen, "-u %s: no such user", user);
		return -1;
	}
	/* the directories the writer creates files in and removes them
	 * from, and the lock; segments already there stay readable */
	if (give(store, pw->pw_uid, pw->pw_gid, err, errlen))
		return -1;
	snprintf(path, sizeof(path), "%s/lock", store);
	if (give(path, pw->pw_uid, pw->pw_gid, err, errlen))
		return -1;
	snprintf(path, sizeof(path), "%s/flows", store);
	if (give(path, pw->pw_uid, pw->pw_gid, err, errlen))
		return -1;
	snprintf(path, sizeof(path), "%s/segments", store);
	if (give(path, pw->pw_uid, pw->pw_gid, err, errlen))
		return -1;
	d = opendir(path);
	while (d && (de = readdir(d))) {
		char cpath[4500];
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		snprintf(cpath, sizeof(cpath), "%s/%s", path, de->d_name);
		if (lstat(cpath, &st) == 0 && S_ISDIR(st.st_mode) &&
		    give(cpath, pw->pw_uid, pw->pw_gid, err, errlen)) {
			closedir(d);
			return -1;
		}
	}
	if (d)
		closedir(d);
	if (sock_path && give(sock_path, pw->pw_uid, (gid_t)-1, err, errlen))
		return -1;
	if (initgroups(pw->pw_name, pw->pw_gid) != 0 ||
	    setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
		snprintf(err, errlen, "-u %s: cannot become %s: %s", user,
		    user, strerror(errno));
		return -1;
	}
	if (setuid(0) == 0) {
		snprintf(err, errlen, "-u %s: root privileges could be taken "
		    "back; refusing to go on", user);
		return -1;
	}
	return 0;
}
