/* One output file (or stdout) for several workers: each worker gets its own sink that collects
 * whole records in a private buffer and hands the buffer to the shared file sink under one mutex,
 * one lock per buffer, never per record. Lines of different workers never mix. */
#ifndef DNSPROBE_SINK_SHARED_FILE_H
#define DNSPROBE_SINK_SHARED_FILE_H

#include <stdbool.h>
#include <stddef.h>

#include "sink.h"

struct shared_file;

/* Shares file, an open file sink it owns from now on. Returns 0, or -1 with one line for the
 * user in err (file is closed, abandoned). */
int shared_file_open(struct shared_file **out, struct sink file, char *err, size_t err_size);

/* A sink for one worker that writes into the shared file. Its counters are the worker's own:
 * in_flight is what sits in its buffer, failed what the file refused; the records the file took
 * are in shared_file_counters. Flushing or closing it hands over what is left. */
int shared_file_sink(struct shared_file *shared, struct sink *out, char *err, size_t err_size);

/* The file's own counters: the records handed over, delivered, failed or still buffered. Add
 * them to the workers' sinks' counters for the totals. */
void shared_file_counters(struct shared_file *shared, struct sink_counters *out);

/* After every worker's sink is flushed: ends the file (sink_finish), so that its counters are
 * final. Returns 0, or -1 with a message in err. */
int shared_file_finish(struct shared_file *shared, char *err, size_t err_size);

/* After every worker's sink is closed: flushes and closes the file (complete=false removes it).
 * Returns 0, or -1 with a message in err. Frees shared. */
int shared_file_close(struct shared_file *shared, bool complete, char *err, size_t err_size);

#endif
