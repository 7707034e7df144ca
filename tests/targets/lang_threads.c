// cflags: -lpthread
// Two threads open different files many times at once: a test of thread-local (self->)
// variables, which must never see the other thread's value.
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

static pthread_barrier_t start;

static void *opener(void *path)
{
	// Touch the path first: a tracer cannot read a page the process never faulted in.
	volatile size_t len = strlen((const char *)path);
	(void)len;
	pthread_barrier_wait(&start);
	for (int i = 0; i < 200; i++) {
		int fd = open((const char *)path, O_RDONLY);
		if (fd >= 0)
			close(fd);
	}
	return 0;
}

int main(void)
{
	pthread_t a, b;
	pthread_barrier_init(&start, 0, 2);
	pthread_create(&a, 0, opener, "/etc/hostname");
	pthread_create(&b, 0, opener, "/etc/passwd");
	pthread_join(a, 0);
	pthread_join(b, 0);
	return 0;
}
