/* Command-line options that choose and tune the sink: a JSON-lines file or stdout, or a Kafka
 * topic when the build has librdkafka (DNSPROBE_KAFKA). */
#include "sink_options.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#ifdef DNSPROBE_KAFKA
#include "kafka_sink.h"
#endif

#define DEFAULT_FLUSH_TIMEOUT_MS 10000
#define KAFKA_CONFIG_MAX_BYTES	 65536

const char sink_options_help[] =
    "Output:\n"
    "  -o, --output PATH|-      write records as JSON lines to PATH (default: - for\n"
    "                           standard output); a file appears only when complete\n"
    "      --discard            build every record and throw it away (benchmarks, or a\n"
    "                           dry run that only counts)\n"
#ifdef DNSPROBE_KAFKA
    "  -b, --brokers HOST:PORT[,...]\n"
    "                           publish to Kafka through these bootstrap brokers instead\n"
    "  -t, --topic TOPIC        the Kafka topic (needed with --brokers)\n"
    "  -X, --kafka-setting PROPERTY=VALUE\n"
    "                           a librdkafka property (TLS, SASL, tuning), over our\n"
    "                           defaults; repeatable (see docs/kafka.md); -X list prints\n"
    "                           every property with its default and exits\n"
    "  -F, --kafka-config FILE  librdkafka properties from FILE, one property=value per\n"
    "                           line (# comments), as kcat reads them: a secret in a file\n"
    "                           is not seen in ps; -X given after it overrides it\n"
    "      --kafka-timestamp capture|send\n"
    "                           the Kafka record timestamp: the capture time, or the time\n"
    "                           of sending (replay's default: old captures would expire\n"
    "                           under retention and idempotence; capture's: capture)\n"
#endif
    "      --format json|raw|dnstap\n"
    "                           record value: JSON (default), the packet bytes as\n"
    "                           captured (Kafka only), or a dnstap message; files of\n"
    "                           dnstap are Frame Streams (see docs/dnstap.md)\n"
    "      --key-format binary|text|community-id\n"
    "                           record key: the 38-byte flow key (default), its text form,\n"
    "                           or the flow's Community ID v1\n"
    "      --on-full block|drop when the sink is full: wait (nothing lost) or drop and count\n"
    "      --flush-timeout MS   after a stop or the end of the input, wait at most MS\n"
    "                           milliseconds for the records already read (default 10000)\n";

void sink_options_init(struct sink_options *o, enum on_full default_on_full)
{
	memset(o, 0, sizeof(*o));
	o->output = "-";
	o->key_encoder = key_encoder_find("binary");
	o->value_encoder = value_encoder_find("json");
	o->on_full = default_on_full;
	o->flush_timeout_ms = DEFAULT_FLUSH_TIMEOUT_MS;
	o->kafka_send_time = default_on_full == ON_FULL_BLOCK;
}

#ifdef DNSPROBE_KAFKA
static int add_kafka_setting(struct sink_options *o, const char *setting)
{
	if (o->kafka_setting_count == SINK_MAX_KAFKA_SETTINGS)
		return cli_usage_error("-X, -F: more than %d settings; that many are not needed",
				       SINK_MAX_KAFKA_SETTINGS);
	o->kafka_settings[o->kafka_setting_count++] = setting;
	return 1;
}

/* The text of every -F file, cut into its settings in place; it lives as long as the run. */
static char kafka_config_text[KAFKA_CONFIG_MAX_BYTES];
static size_t kafka_config_used;

static char *trim(char *text)
{
	while (*text == ' ' || *text == '\t')
		text++;
	size_t len = strlen(text);
	while (len > 0 && strchr(" \t\r", text[len - 1]))
		text[--len] = '\0';
	return text;
}

/* -F FILE: one property=value per line, '#' starts a comment line, blank lines are skipped. */
static int read_kafka_config(struct sink_options *o, const char *path)
{
	FILE *in = fopen(path, "r");
	if (!in)
		return cli_usage_error("-F %s: cannot read it: %s; check the path", path,
				       strerror(errno));
	char *text = kafka_config_text + kafka_config_used;
	size_t room = sizeof(kafka_config_text) - kafka_config_used;
	size_t len = fread(text, 1, room, in);
	bool failed = ferror(in);
	fclose(in);
	if (failed)
		return cli_usage_error("-F %s: cannot read it; check the file", path);
	if (len == room)
		return cli_usage_error("-F %s: more than %d bytes of settings; a librdkafka "
				       "configuration is much smaller",
				       path, KAFKA_CONFIG_MAX_BYTES);
	text[len] = '\0';
	kafka_config_used += len + 1;
	int line_number = 0;
	for (char *line = text, *next; line; line = next) {
		line_number++;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		char *setting = trim(line);
		if (setting[0] == '\0' || setting[0] == '#')
			continue;
		char *equals = strchr(setting, '=');
		if (!equals || equals == setting)
			return cli_usage_error("-F %s: line %d: expected property=value, e.g. "
					       "security.protocol=SSL",
					       path, line_number);
		int added = add_kafka_setting(o, setting);
		if (added != 1)
			return added;
	}
	return 1;
}

static int handle_kafka_option(struct sink_options *o, int c, const char *arg)
{
	switch (c) {
	case 'b':
	case SINK_OPT_BROKERS:
		if (arg[0] == '\0')
			return cli_usage_error("--brokers: empty; give host:port, e.g. "
					       "--brokers 127.0.0.1:9092");
		o->brokers = arg;
		return 1;
	case 't':
	case SINK_OPT_TOPIC:
		if (arg[0] == '\0')
			return cli_usage_error(
			    "--topic: empty; give a topic name, e.g. --topic dns");
		o->topic = arg;
		return 1;
	case 'F':
	case SINK_OPT_KAFKA_CONFIG:
		return read_kafka_config(o, arg);
	case SINK_OPT_KAFKA_TIMESTAMP:
		if (strcmp(arg, "capture") != 0 && strcmp(arg, "send") != 0)
			return cli_usage_error(
			    "--kafka-timestamp: '%s' is not a choice; use capture "
			    "or send",
			    arg);
		o->kafka_send_time = strcmp(arg, "send") == 0;
		return 1;
	default:
		if (strcmp(arg, "list") == 0) { /* as kcat: every property, then exit */
			kafka_sink_show_properties(stdout);
			exit(fflush(stdout) == 0 ? 0 : 1);
		}
		if (!strchr(arg, '=') || arg[0] == '=')
			return cli_usage_error("-X %s: expected property=value, e.g. -X "
					       "security.protocol=SSL",
					       arg);
		return add_kafka_setting(o, arg);
	}
}
#else
static int handle_kafka_option(struct sink_options *o, int c, const char *arg)
{
	(void)o;
	(void)c;
	(void)arg;
	return cli_usage_error("Kafka output is not available: this dnsprobe was built without "
			       "librdkafka; install librdkafka-dev and rebuild, or write records "
			       "with --output");
}
#endif

int sink_options_handle(struct sink_options *o, int c, const char *arg)
{
	uint64_t value;
	switch (c) {
	case 'o':
	case SINK_OPT_OUTPUT:
		if (arg[0] == '\0')
			return cli_usage_error("--output: empty; give a path, or - for standard "
					       "output");
		o->output = arg;
		o->output_given = true;
		return 1;
	case SINK_OPT_FORMAT:
		o->value_encoder = value_encoder_find(arg);
		if (!o->value_encoder)
			return cli_usage_error("--format: '%s' is not a format; use %s", arg,
					       value_encoder_names());
		return 1;
	case SINK_OPT_KEY_FORMAT:
		o->key_encoder = key_encoder_find(arg);
		if (!o->key_encoder)
			return cli_usage_error("--key-format: '%s' is not a key format; use %s",
					       arg, key_encoder_names());
		o->key_format_given = true;
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
	case SINK_OPT_DISCARD:
		o->discard = true;
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
	case 'F':
	case SINK_OPT_KAFKA_CONFIG:
	case SINK_OPT_KAFKA_TIMESTAMP:
		return handle_kafka_option(o, c, arg);
	default:
		return 0;
	}
}

int sink_options_finish(struct sink_options *o)
{
	if (o->discard && (o->brokers || o->output_given))
		return cli_usage_error("--discard throws records away; leave out --output and "
				       "--brokers");
	if (o->brokers && o->output_given)
		return cli_usage_error("--output and --brokers both given; records go to a file or "
				       "to Kafka, choose one");
	if (o->brokers && !o->topic)
		return cli_usage_error("--brokers needs --topic; e.g. --brokers 127.0.0.1:9092 "
				       "--topic dns");
	if (!o->brokers && (o->topic || o->kafka_setting_count))
		return cli_usage_error(
		    "--topic, -X and -F are for Kafka output and need --brokers; "
		    "e.g. --brokers 127.0.0.1:9092 --topic dns");
	if (o->key_format_given && !o->brokers && !o->discard)
		return cli_usage_error(
		    "--key-format chooses the Kafka record key and needs "
		    "--brokers; file records carry the flow as dnsprobe.flow_key "
		    "and network.community_id");
	if (o->value_encoder->binary && !o->value_encoder->frame_stream_type && !o->brokers &&
	    !o->discard)
		return cli_usage_error("--format %s needs Kafka output (--brokers); files take "
				       "JSON or dnstap records",
				       o->value_encoder->name);
	return 0;
}

void sink_options_apply(const struct sink_options *o, struct worker_config *config)
{
	config->key_encoder = o->key_encoder;
	config->value_encoder = o->value_encoder;
	config->on_full = o->on_full;
	config->stop_wait_ms = o->flush_timeout_ms;
}

int sink_options_open(const struct sink_options *o, struct sink *sink, char *err, size_t err_size)
{
#ifdef DNSPROBE_KAFKA
	if (o->brokers) {
		struct kafka_sink_config config = {
		    .brokers = o->brokers,
		    .topic = o->topic,
		    .settings = o->kafka_settings,
		    .setting_count = o->kafka_setting_count,
		    .drop_when_full = o->on_full == ON_FULL_DROP,
		    .send_time = o->kafka_send_time,
		};
		return sink_kafka_open(sink, &config, err, err_size);
	}
#endif
	if (o->discard)
		return sink_null_open(sink, err, err_size);
	return sink_file_open(sink, o->output, o->value_encoder->frame_stream_type, err, err_size);
}

/* path is the output file, or the lane's own file ("{worker}" filled in). */
static int open_for_runner(void *options, const char *path, struct sink *out, char *err,
			   size_t err_size)
{
	struct sink_options o = *(const struct sink_options *)options;
	if (path)
		o.output = path;
	return sink_options_open(&o, out, err, err_size);
}

struct sink_opener sink_options_opener(const struct sink_options *o)
{
	return (struct sink_opener){
	    .open = open_for_runner,
	    .ctx = (void *)o,
	    .path = o->brokers || o->discard ? NULL : o->output,
	};
}
