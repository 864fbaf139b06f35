/* "dnsprobe listen": take dnstap from resolvers and publish one record per DNS message. */
#ifndef DNSPROBE_LISTEN_CMD_H
#define DNSPROBE_LISTEN_CMD_H

int listen_main(int argc, char **argv);

#endif
