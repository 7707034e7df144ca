// cflags: -Wl,--section-start=rdt_fixed=0x100000
/*
 * Target for uprobe tests: functions with known arguments and return values, each called a known
 * number of times.
 *
 *   uprobe_target [ROUNDS [DELAY_MS [fork]]]
 *
 * waits DELAY_MS (so `rdt -p` can attach first), then calls, ROUNDS times (default 3):
 *   add(i, 10)            returns i + 10
 *   scale(i, -3)          returns i * -3
 *   greet("world")        returns "hello"
 *   six(1, 2, 3, 4, 5, 6) returns 21
 *   eight(1, …, 8)        returns 36 (its 7th and 8th arguments are on the stack)
 *   pick(i)               an IFUNC whose resolver picks __pick_generic (returns i)
 *   stepper(i - 1)        returns 1 for a positive argument, else 0 (see below)
 *   ns::add(i, 1)         a function under the C++ name `_ZN2ns3addEii`, returns i - 1
 * With `fork`, a forked child makes the same calls too, so a pid-scoped probe can be told from
 * a system-wide one.
 *
 * `stepper` is written in assembly in its own section, linked at 0x100000 (a segment whose file
 * offset differs from its address), so tests can name its instructions by address and offset:
 *   +0  / 0x100000   entry                     (every call)
 *   +4  / 0x100004   `mov $1, %eax`            (only for a positive argument)
 *   +10 / 0x10000a   `xor %eax, %eax`          (only for zero or a negative argument)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

__attribute__((noinline)) int add(int a, int b)
{
	__asm__ volatile("");
	return a + b;
}

__attribute__((noinline)) long scale(long x, long factor)
{
	__asm__ volatile("");
	return x * factor;
}

__attribute__((noinline)) const char *greet(const char *name)
{
	/* Written at run time, so the page is present when a probe reads it. */
	static char reply[16];
	__asm__ volatile("" : : "r"(name));
	strcpy(reply, "hello");
	return reply;
}

__attribute__((noinline)) int six(int a, int b, int c, int d, int e, int f)
{
	__asm__ volatile("");
	return a + b + c + d + e + f;
}

/* C names the symbol as C++ would mangle `int ns::add(int, int)`, to test demangling. */
int ns_add(int a, int b) __asm__("_ZN2ns3addEii");
__attribute__((noinline)) int ns_add(int a, int b)
{
	__asm__ volatile("");
	return a - b;
}

__asm__(".pushsection rdt_fixed, \"ax\", @progbits\n"
	".globl stepper\n"
	".type stepper, @function\n"
	"stepper:\n"
	"	test %edi, %edi\n"	/* +0, 2 bytes */
	"	jle 1f\n"		/* +2, 2 bytes */
	"	mov $1, %eax\n"	/* +4, 5 bytes */
	"	ret\n"		/* +9 */
	"1:	xor %eax, %eax\n"	/* +10 */
	"	ret\n"
	".size stepper, . - stepper\n"
	".popsection\n");
int stepper(int x);

__attribute__((noinline)) long eight(long a, long b, long c, long d, long e, long f, long g,
				     long h)
{
	__asm__ volatile("");
	return a + b + c + d + e + f + g + h;
}

/* An indirect function, like libc's strlen: the dynamic linker calls the resolver once. */
__attribute__((noinline)) int __pick_generic(int x)
{
	__asm__ volatile("");
	return x;
}

__attribute__((noinline)) int __pick_fast(int x)
{
	__asm__ volatile("");
	return x + 1000;
}

static int (*resolve_pick(void))(int)
{
	return __pick_generic;
}

int pick(int x) __attribute__((ifunc("resolve_pick")));

static void rounds(int n)
{
	for (int i = 0; i < n; i++) {
		add(i, 10);
		scale(i, -3);
		char name[16];
		strcpy(name, "world");
		greet(name);
		six(1, 2, 3, 4, 5, 6);
		eight(1, 2, 3, 4, 5, 6, 7, 8);
		pick(i);
		stepper(i - 1);
		ns_add(i, 1);
	}
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 3;
	int delay_ms = argc > 2 ? atoi(argv[2]) : 0;
	int do_fork = argc > 3 && strcmp(argv[3], "fork") == 0;

	if (delay_ms > 0)
		usleep(delay_ms * 1000);
	pid_t child = do_fork ? fork() : -1;
	rounds(n);
	if (child > 0)
		waitpid(child, NULL, 0);
	if (child != 0)
		printf("uprobe_target done\n");
	return 0;
}
