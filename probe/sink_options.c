/* Command-line options that choose and tune the sink. */
#include "sink_options.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"

#define DEFAULT_FLUSH_TIMEOUT_MS 10000

const char sink_options_help[] =
	"Output:\n"
	"  -o, --output PATH|-      write records as JSON lines to PATH (default: - for\n"
	"                           standard output); a file appears only when complete\n"
	"      --format json|raw    record value: JSON (default) or the packet bytes as captured\n"
	"      --key-format binary|text\n"
	"                           record key: the 38-byte flow key (default) or its text form\n"
	"      --on-full block|drop when the sink is full: wait (nothing lost) or drop and count\n"
	"      --flush-timeout MS   at exit, wait at most MS milliseconds for pending records\n"
	"                           (default 10000)\n";

void sink_options_init(struct sink_options *o, enum on_full default_on_full)
{
	memset(o, 0, sizeof(*o));
	o->output = "-";
	o->key_format = KEY_BINARY;
	o->value_format = VALUE_JSON;
	o->on_full = default_on_full;
	o->flush_timeout_ms = DEFAULT_FLUSH_TIMEOUT_MS;
}

int sink_options_handle(struct sink_options *o, int c, const char *arg)
{
	uint64_t value;
	switch (c) {
	case 'o':
	case SINK_OPT_OUTPUT:
		o->output = arg;
		return 1;
	case SINK_OPT_FORMAT:
		if (strcmp(arg, "json") == 0)
			o->value_format = VALUE_JSON;
		else if (strcmp(arg, "raw") == 0)
			o->value_format = VALUE_RAW;
		else
			return cli_usage_error("--format: '%s' is not a format; use json or raw", arg);
		return 1;
	case SINK_OPT_KEY_FORMAT:
		if (strcmp(arg, "binary") == 0)
			o->key_format = KEY_BINARY;
		else if (strcmp(arg, "text") == 0)
			o->key_format = KEY_TEXT;
		else
			return cli_usage_error("--key-format: '%s' is not a key format; use binary "
					       "or text",
					       arg);
		return 1;
	case SINK_OPT_ON_FULL:
		if (strcmp(arg, "block") == 0)
			o->on_full = ON_FULL_BLOCK;
		else if (strcmp(arg, "drop") == 0)
			o->on_full = ON_FULL_DROP;
		else
			return cli_usage_error("--on-full: '%s' is not a policy; use block or drop",
					       arg);
		o->on_full_given = true;
		return 1;
	case SINK_OPT_FLUSH_TIMEOUT:
		if (!cli_parse_uint(arg, 0, 3600000, &value))
			return cli_usage_error("--flush-timeout: '%s' is not a number of "
					       "milliseconds; give 0 to 3600000, e.g. 10000",
					       arg);
		o->flush_timeout_ms = (int)value;
		return 1;
	case 'b':
	case SINK_OPT_BROKERS:
	case 't':
	case SINK_OPT_TOPIC:
	case 'X':
	case SINK_OPT_KAFKA_SETTING:
		return cli_usage_error("Kafka output is not available in this build; write "
				       "records with --output instead");
	default:
		return 0;
	}
}

int sink_options_finish(struct sink_options *o)
{
	if (o->value_format == VALUE_RAW && !o->brokers)
		return cli_usage_error("--format raw needs Kafka output (--brokers); files take "
				       "JSON records");
	return 0;
}

void sink_options_apply(const struct sink_options *o, struct worker_config *config)
{
	config->key_format = o->key_format;
	config->value_format = o->value_format;
	config->on_full = o->on_full;
}

int sink_options_open(const struct sink_options *o, struct sink *sink, char *err, size_t err_size)
{
	return sink_file_open(sink, o->output, err, err_size);
}
