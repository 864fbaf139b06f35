/* "dnsprobe replay": read capture files and publish one record per DNS message. */
#ifndef DNSPROBE_REPLAY_CMD_H
#define DNSPROBE_REPLAY_CMD_H

int replay_main(int argc, char **argv);

#endif
