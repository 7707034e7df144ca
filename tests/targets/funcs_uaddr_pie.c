/* For uaddr() tests: a position-independent executable (PIE) with a global string; funcs_tick() runs
 * every 50 ms for the milliseconds given as the argument (default 300). */
#include <stdlib.h>
#include <time.h>

char funcs_greeting[] = "hello from uaddr";

__attribute__((noinline)) void funcs_tick(int n)
{
	__asm__ volatile("" : : "r"(n) : "memory");
}

int main(int argc, char **argv)
{
	int ms = argc > 1 ? atoi(argv[1]) : 300;
	struct timespec step = { 0, 50 * 1000 * 1000 };
	for (int i = 0; i * 50 < ms; i++) {
		funcs_tick(i);
		nanosleep(&step, NULL);
	}
	return 0;
}
