/* "dnsprobe check": can a capture on this interface be trusted? */
#ifndef DNSPROBE_CHECK_CMD_H
#define DNSPROBE_CHECK_CMD_H

int check_main(int argc, char **argv);

#endif
