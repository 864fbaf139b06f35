/* Fuzz target: any bytes through json_string() must give one valid JSON string that decodes back
 * to exactly those bytes, or report overflow without writing past the buffer or moving len.
 * Input: the first byte shapes the buffer (bit 7: tight buffer that will usually overflow; bits
 * 0-2: bytes already in the buffer), the rest is the text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "json_check.h"
#include "json_writer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	uint8_t shape = data[0];
	const char *text = (const char *)data + 1;
	size_t text_len = size - 1;
	size_t prefix_len = shape & 0x07;
	size_t room =
	    (shape & 0x80) ? (shape & 0x78) >> 1 : text_len * 6 + 2 + ((shape & 0x78) >> 3);
	size_t buf_size = prefix_len + room;

	/* Exactly buf_size bytes, so AddressSanitizer sees any write past the end. */
	char *buf = malloc(buf_size ? buf_size : 1);
	unsigned char *decoded = malloc(text_len ? text_len : 1);
	FUZZ_CHECK(buf && decoded);
	struct json_writer w;
	json_init(&w, buf, buf_size);
	json_raw(&w, "[[[[[[[", prefix_len);
	FUZZ_CHECK(!w.overflow && w.len == prefix_len);

	json_string(&w, text, text_len);
	if (w.overflow) {
		FUZZ_CHECK(w.len == prefix_len);
		FUZZ_CHECK(text_len * 6 + 2 > room);
	} else {
		size_t decoded_len = 0;
		FUZZ_CHECK(w.len <= buf_size);
		FUZZ_CHECK(json_check_value(buf + prefix_len, w.len - prefix_len));
		FUZZ_CHECK(
		    json_check_string(buf + prefix_len, w.len - prefix_len, decoded, &decoded_len));
		FUZZ_CHECK(decoded_len == text_len);
		FUZZ_CHECK(memcmp(decoded, text, text_len) == 0);
	}
	free(decoded);
	free(buf);
	return 0;
}
