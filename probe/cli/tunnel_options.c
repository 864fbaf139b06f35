/* Command-line options naming the UDP ports of VXLAN and Geneve tunnels. */
#include "tunnel_options.h"

#include "cli.h"

const char tunnel_options_help[] =
    "Tunnels (VXLAN, Geneve, GRE, ERSPAN, MPLS and IP-in-IP are decapsulated; records carry\n"
    "the inner packet's addresses and the tunnel in dnsprobe.tunnel):\n"
    "      --vxlan-port PORT       also treat UDP destination PORT as VXLAN (repeatable;\n"
    "                              4789 always is)\n"
    "      --geneve-port PORT      also treat UDP destination PORT as Geneve (repeatable;\n"
    "                              6081 always is)\n";

static int port_option(struct port_set *set, const char *option, const char *arg)
{
	uint64_t port;
	if (!cli_parse_uint(arg, 1, 65535, &port))
		return cli_usage_error("--%s: '%s' is not a port number; give 1 to 65535, e.g. "
				       "--%s 8472",
				       option, arg, option);
	port_set_add(set, (uint16_t)port);
	return 1;
}

int tunnel_options_handle(struct worker_config *config, int c, const char *arg)
{
	switch (c) {
	case TUNNEL_OPT_VXLAN_PORT:
		return port_option(&config->vxlan_ports, "vxlan-port", arg);
	case TUNNEL_OPT_GENEVE_PORT:
		return port_option(&config->geneve_ports, "geneve-port", arg);
	default:
		return 0;
	}
}

void tunnel_options_ports(const struct worker_config *config, struct port_set *vxlan,
			  struct port_set *geneve)
{
	*vxlan = config->vxlan_ports;
	*geneve = config->geneve_ports;
	port_set_add(vxlan, VXLAN_STANDARD_PORT);
	port_set_add(geneve, GENEVE_STANDARD_PORT);
}
