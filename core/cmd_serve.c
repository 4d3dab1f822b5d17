/*
 * `tm serve -s STORE [-c CONF]`: answers the control socket for a store
 * without capturing (a store copied off a sensor, or a node behind a
 * front-end): queries, stats of the store, ping. It takes no lock: it
 * only reads, and a `tm capture` may write the store meanwhile (then the
 * capture's own socket is the better one to ask: it sees its memory).
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "config.h"
#include "service.h"

static void usage(FILE *out)
{
	fprintf(out,
	    "usage: tm serve -s STORE [-c CONF]\n"
	    "Answers the control socket (STORE/tm.sock unless configured in\n"
	    "control:) for STORE without capturing, until SIGINT or SIGTERM:\n"
	    "  tm query --connect STORE/tm.sock 'host 10.0.0.5' | tcpdump -r -\n"
	    "  -s STORE            the store\n"
	    "  -c CONF             the configuration (its control: section)\n"
	    TM_CLI_PLUGIN_HELP);
}

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
	(void)sig;
	g_stop = 1;
}

int tm_cmd_serve(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		TM_CLI_PLUGIN_LONGOPTS,
		{ NULL, 0, NULL, 0 }
	};
	struct tm_cli_plugins plug = { 0 };
	struct tm_service_opts so;
	struct tm_service *svc;
	struct tm_config cfg;
	struct sigaction sa;
	const char *store = NULL, *conf = NULL;
	char err[1024], path[4200];
	struct stat st;
	sigset_t set, old;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "s:c:h", longopts, NULL)) != -1) {
		int r = tm_cli_plugin_opt(&plug, opt, optarg);

		if (r < 0)
			return 2;
		if (r > 0)
			continue;
		switch (opt) {
		case 's': store = optarg; break;
		case 'c': conf = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!store || optind != argc) {
		usage(stderr);
		return 2;
	}
	snprintf(path, sizeof(path), "%s/segments", store);
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "tm: %s: not a store (no segments/ "
		    "directory)\n", store);
		return 1;
	}
	tm_config_defaults(&cfg);
	if (conf && tm_config_load(&cfg, conf, err, sizeof(err))) {
		fprintf(stderr, "tm: %s\n", err);
		tm_config_free(&cfg);
		return 2;
	}
	/* the signals wait in sigsuspend: blocked until then */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);	/* nothing to reload: not a stop */

	memset(&so, 0, sizeof(so));
	so.store = store;
	so.cfg = &cfg;
	so.conf_file = conf;
	so.plug = &plug;
	so.log = stderr;
	so.wake_fd = -1;
	svc = tm_service_start(&so, err, sizeof(err));	/* threads: blocked */
	if (!svc) {
		fprintf(stderr, "tm: control socket: %s\n", err);
		tm_config_free(&cfg);
		return 1;
	}
	fprintf(stderr, "tm: serving %s on %s\n", store,
	    tm_service_socket(svc) ? tm_service_socket(svc) : cfg.control.tcp);
	while (!g_stop)
		sigsuspend(&old);
	tm_service_stop(svc);
	tm_config_free(&cfg);
	return 0;
}
