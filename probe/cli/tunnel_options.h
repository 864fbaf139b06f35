/* Command-line options naming the UDP ports of VXLAN and Geneve tunnels, shared by the commands
 * that read packets (replay, capture). */
#ifndef DNSPROBE_TUNNEL_OPTIONS_H
#define DNSPROBE_TUNNEL_OPTIONS_H

#include <getopt.h>

#include "worker.h"

enum {
	TUNNEL_OPT_VXLAN_PORT = 1200,
	TUNNEL_OPT_GENEVE_PORT,
};

#define TUNNEL_LONG_OPTIONS                                                                        \
	{"vxlan-port", required_argument, NULL, TUNNEL_OPT_VXLAN_PORT},                            \
	{                                                                                          \
		"geneve-port", required_argument, NULL, TUNNEL_OPT_GENEVE_PORT                     \
	}

extern const char tunnel_options_help[];

/* Handles option c into config. Returns 1 when handled, 0 when c is not a tunnel option, or
 * EXIT_USAGE after printing one line about a bad value. */
int tunnel_options_handle(struct worker_config *config, int c, const char *arg);

/* Both port sets with the standard ports added: what the worker and the capture filter use. */
void tunnel_options_ports(const struct worker_config *config, struct port_set *vxlan,
			  struct port_set *geneve);

#endif
