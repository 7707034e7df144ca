/*
 * Target for USDT tests (<sys/sdt.h> from Debian's systemtap-sdt-dev).
 *
 *   usdt_target [ROUNDS [DELAY_MS]]
 *
 * waits DELAY_MS (so `rdt -p` can attach first), then fires these probes of provider
 * `rdt_test`, each ROUNDS times (default 3) with i = 0, 1, 2, …:
 *   simple(i, -5)          register arguments (`-4@%ebx -4@$-5`)
 *   constant(42, i)        an immediate argument (`-4@$42`)
 *   memory(7000 + i, table[i % 4], global_value)
 *                          arguments gcc keeps in memory: a stack slot (`-8@-56(%rbp)`), an
 *                          indexed table (`-8@(%r15,%rax,8)`), a global (`-8@global_value(%rip)`)
 *   gated(i)               guarded by a semaphore: fires (and counts `gated_calls`) only while
 *                          a tracer has set the semaphore
 *   multi(site, value)     written at two places: site 1 passes (1, 1000 + i) as a 16-bit
 *                          `%di`, site 2 passes (2, i * 1000000000) as a 64-bit `%rdi`
 * At the end it prints how often the gated path ran, so a test can show rdt set the semaphore.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/sdt.h>
#include <unistd.h>

static int gated(int i);

long global_value = 1234567;
static volatile long table[4] = {100, 200, 300, 400};

__attribute__((noinline)) static void site_one(int i)
{
	short narrow = (short)(i + 1000);
	DTRACE_PROBE2(rdt_test, multi, 1, narrow);
}

__attribute__((noinline)) static void site_two(long i)
{
	DTRACE_PROBE2(rdt_test, multi, 2, i * 1000000000L);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 3;
	int delay_ms = argc > 2 ? atoi(argv[2]) : 0;
	int gated_calls = 0;

	if (delay_ms > 0)
		usleep(delay_ms * 1000);

	for (int i = 0; i < n; i++) {
		volatile long on_stack = 7000 + i;
		DTRACE_PROBE2(rdt_test, simple, i, -5);
		DTRACE_PROBE2(rdt_test, constant, 42, i);
		STAP_PROBE3(rdt_test, memory, on_stack, table[i % 4], global_value);
		gated_calls += gated(i);
		site_one(i);
		site_two(i);
	}
	printf("gated path ran %d times\n", gated_calls);
	return 0;
}

/*
 * Only `gated` has a semaphore. _SDT_HAS_SEMAPHORES would give every probe of the file one, so
 * the semaphore-carrying form of the note is switched on here, after the other probes.
 */
__extension__ unsigned short rdt_test_gated_semaphore __attribute__((unused, section(".probes")));
#undef _SDT_SEMAPHORE
#define _SDT_SEMAPHORE(p, n) _SDT_ASM_1(_SDT_ASM_ADDR p##_##n##_semaphore)

__attribute__((noinline)) static int gated(int i)
{
	if (__builtin_expect(rdt_test_gated_semaphore, 0)) {
		STAP_PROBE1(rdt_test, gated, i);
		return 1;
	}
	return 0;
}
