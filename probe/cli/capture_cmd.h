/* "dnsprobe capture": live capture from an interface (libpcap) or DPDK ports. */
#ifndef DNSPROBE_CAPTURE_CMD_H
#define DNSPROBE_CAPTURE_CMD_H

int capture_main(int argc, char **argv);

#endif
