// cflags: -lpthread
/*
 * Target for the threadsnoop example: starts THREADS threads (default 3) with pthread_create,
 * each running `worker`, and joins them.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static void *worker(void *arg)
{
	return arg;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 3;
	pthread_t threads[64];

	if (n > 64)
		n = 64;
	for (int i = 0; i < n; i++)
		pthread_create(&threads[i], NULL, worker, NULL);
	for (int i = 0; i < n; i++)
		pthread_join(threads[i], NULL);
	printf("threads_target started %d threads\n", n);
	return 0;
}
