// A known call chain for user-stack tests: main -> outer -> middle -> leaf, where leaf makes the
// getpid system call itself (inline `syscall`, so the innermost user frame is leaf and not a libc
// wrapper built without frame pointers). Each function does work after its call so the compiler
// neither inlines it nor turns the call into a tail jump.
//
// It runs for the milliseconds given as its argument (default 300), so a tracer has time to note
// its mappings before it exits.
//
// At start it also calls getcwd with leaf's address as the buffer and a size of 0 (the kernel
// refuses it without writing), so a tracer sees a user code address: `usym(args.buf)` is leaf.
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static volatile long sink;

__attribute__((noinline)) void note(long v)
{
    sink += v;
}

// Calls note() so that it is not a leaf function: gcc omits the frame pointer of leaf functions,
// and the frame-pointer walk would then skip leaf's caller.
__attribute__((noinline)) long leaf(long i)
{
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(39L) : "rcx", "r11", "memory");
    note(ret + i);
    return sink;
}

__attribute__((noinline)) long middle(long i)
{
    long r = leaf(i);
    sink += 1;
    return r;
}

__attribute__((noinline)) long outer(long i)
{
    long r = middle(i);
    sink += 2;
    return r;
}

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
    long run_ms = argc > 1 ? atol(argv[1]) : 300;
    long end = now_ms() + run_ms;
    long total = 0;
    syscall(SYS_getcwd, (char *)leaf, 0L);
    while (now_ms() < end)
        for (long i = 0; i < 1000; i++)
            total += outer(i);
    return total == 0;
}
