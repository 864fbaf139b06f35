/* IP addresses as text (dotted quad, RFC 5952) and bytes as hex, without printf: on the path of
 * every record. */
#include "address_text.h"

#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

static const uint8_t ipv4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* Decimal text of every octet value, padded to four bytes so that each is one fixed-size copy. */
static const char octet_digits[256][4] = {
    "0",   "1",	  "2",	 "3",	"4",   "5",   "6",   "7",   "8",   "9",	  "10",	 "11",	"12",
    "13",  "14",  "15",	 "16",	"17",  "18",  "19",  "20",  "21",  "22",  "23",	 "24",	"25",
    "26",  "27",  "28",	 "29",	"30",  "31",  "32",  "33",  "34",  "35",  "36",	 "37",	"38",
    "39",  "40",  "41",	 "42",	"43",  "44",  "45",  "46",  "47",  "48",  "49",	 "50",	"51",
    "52",  "53",  "54",	 "55",	"56",  "57",  "58",  "59",  "60",  "61",  "62",	 "63",	"64",
    "65",  "66",  "67",	 "68",	"69",  "70",  "71",  "72",  "73",  "74",  "75",	 "76",	"77",
    "78",  "79",  "80",	 "81",	"82",  "83",  "84",  "85",  "86",  "87",  "88",	 "89",	"90",
    "91",  "92",  "93",	 "94",	"95",  "96",  "97",  "98",  "99",  "100", "101", "102", "103",
    "104", "105", "106", "107", "108", "109", "110", "111", "112", "113", "114", "115", "116",
    "117", "118", "119", "120", "121", "122", "123", "124", "125", "126", "127", "128", "129",
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "140", "141", "142",
    "143", "144", "145", "146", "147", "148", "149", "150", "151", "152", "153", "154", "155",
    "156", "157", "158", "159", "160", "161", "162", "163", "164", "165", "166", "167", "168",
    "169", "170", "171", "172", "173", "174", "175", "176", "177", "178", "179", "180", "181",
    "182", "183", "184", "185", "186", "187", "188", "189", "190", "191", "192", "193", "194",
    "195", "196", "197", "198", "199", "200", "201", "202", "203", "204", "205", "206", "207",
    "208", "209", "210", "211", "212", "213", "214", "215", "216", "217", "218", "219", "220",
    "221", "222", "223", "224", "225", "226", "227", "228", "229", "230", "231", "232", "233",
    "234", "235", "236", "237", "238", "239", "240", "241", "242", "243", "244", "245", "246",
    "247", "248", "249", "250", "251", "252", "253", "254", "255"};

size_t ipv4_text(const uint8_t a[4], char *out)
{
	size_t n = 0;
	for (int i = 0; i < 4; i++) {
		uint8_t v = a[i];
		/* Copies four bytes, the last ones past the digits: out has room for them. */
		memcpy(out + n, octet_digits[v], 4);
		n += v >= 100 ? 3 : v >= 10 ? 2 : 1;
		out[n++] = '.';
	}
	return n - 1;
}

/* With SSE2: nibbles split and interleaved, then '0' + n, plus 'a' - '0' - 10 where n > 9. */
void hex_of_16_bytes(const uint8_t *in, char *out)
{
#ifdef __SSE2__
	__m128i v = _mm_loadu_si128((const __m128i *)(const void *)in);
	__m128i low_nibbles = _mm_set1_epi8(0x0f);
	__m128i high = _mm_and_si128(_mm_srli_epi16(v, 4), low_nibbles);
	__m128i low = _mm_and_si128(v, low_nibbles);
	__m128i halves[2] = {_mm_unpacklo_epi8(high, low), _mm_unpackhi_epi8(high, low)};
	for (int i = 0; i < 2; i++) {
		__m128i letters = _mm_and_si128(_mm_cmpgt_epi8(halves[i], _mm_set1_epi8(9)),
						_mm_set1_epi8('a' - '0' - 10));
		__m128i text = _mm_add_epi8(_mm_add_epi8(halves[i], _mm_set1_epi8('0')), letters);
		_mm_storeu_si128((__m128i *)(void *)(out + 16 * i), text);
	}
#else
	/* Two hex digits for every byte value. */
	static const char hex_pairs[513] =
	    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	    "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
	    "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
	    "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
	    "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
	    "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
	    "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
	    "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";
	for (int i = 0; i < 16; i++)
		memcpy(out + 2 * i, hex_pairs + 2 * in[i], 2);
#endif
}

/* One group of an IPv6 address without leading zeros, from its four hex digits; copies four
 * bytes (those after the digits are overwritten later), returns the end. */
static char *put_group(char *out, const char *digits, const uint8_t *group)
{
	unsigned value = (unsigned)group[0] << 8 | group[1];
	/* Leading zero digits, at most three (16 to 31 leading zero bits in 32 for 1 to 0xffff). */
	unsigned skip = value ? (unsigned)__builtin_clz(value) / 4 - 4 : 3;
	memcpy(out, digits + skip, 4);
	return out + 4 - skip;
}

/* The longest run of two or more zero groups (the first of equal ones), as RFC 5952 4.2 says. */
static void longest_zero_run(const uint8_t a[16], int *best, int *best_len)
{
	*best = -1;
	*best_len = 1;
	unsigned zero_groups = 0;
	for (int i = 0; i < 8; i++)
		zero_groups |= (unsigned)((a[2 * i] | a[2 * i + 1]) == 0) << i;
	if ((zero_groups & zero_groups >> 1) == 0)
		return; /* no two zero groups side by side */
	for (int i = 0; i < 8;) {
		int j = i;
		while (j < 8 && (zero_groups >> j & 1))
			j++;
		if (j - i > *best_len) {
			*best = i;
			*best_len = j - i;
		}
		i = j > i ? j : i + 1;
	}
}

/* RFC 5952 text, as glibc's inet_ntop writes it (including its "::a.b.c.d" for IPv4-compatible
 * addresses), without the formatted printing inet_ntop does for each group. */
size_t ipv6_text(const uint8_t a[16], char *out)
{
	int best, best_len;
	longest_zero_run(a, &best, &best_len);
	char hex[48]; /* 32 digits, and room for put_group's copy past the last group */
	hex_of_16_bytes(a, hex);
	char *p = out;
	for (int i = 0; i < 8; i++) {
		if (i == best) {
			*p++ = ':';
			i += best_len - 1;
			if (i == 7)
				*p++ = ':';
			continue;
		}
		if (i)
			*p++ = ':';
		if (i == 6 && best == 0 &&
		    (best_len == 6 || (best_len == 5 && a[10] == 0xff && a[11] == 0xff)))
			return (size_t)(p - out) + ipv4_text(a + 12, p);
		p = put_group(p, hex + 4 * i, a + 2 * i);
	}
	return (size_t)(p - out);
}

size_t address_text_unterminated(const uint8_t addr[16], char *out)
{
	return memcmp(addr, ipv4_mapped_prefix, 12) == 0 ? ipv4_text(addr + 12, out)
							 : ipv6_text(addr, out);
}

size_t address_text(const uint8_t addr[16], char *out, size_t size)
{
	char text[ADDRESS_TEXT_MAX];
	size_t n = address_text_unterminated(addr, text);
	if (n >= size) {
		if (size)
			out[0] = '\0';
		return 0;
	}
	memcpy(out, text, n);
	out[n] = '\0';
	return n;
}
