#include "counter.h"

static int pair_fits(size_t buflen, uint32_t offset, uint32_t length)
{
	/* 64-bit sum: offset + length can wrap in 32 bits. */
	return (uint64_t)offset + length <= (uint64_t)buflen;
}

long cb_table_first_bad(size_t buflen, const uint32_t *table, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		if (!pair_fits(buflen, table[2 * i], table[2 * i + 1]))
			return (long)i;
	}
	return -1;
}

uint64_t cb_count_table(const uint8_t *buf, size_t buflen, const uint32_t *table, uint32_t n)
{
	uint64_t ipv4 = 0;

	for (uint32_t i = 0; i < n; i++) {
		uint32_t off = table[2 * i], len = table[2 * i + 1];

		if (pair_fits(buflen, off, len))
			ipv4 += (uint64_t)cb_do_something(buf + off, len);
	}
	return ipv4;
}
