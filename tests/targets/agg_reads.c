/* Reads /dev/zero on fd 100 once per size given on the command line, so aggregation tests know
 * exactly which sys_enter_read events (args.fd == 100, args.count == size) happen. An argument
 * `sN` sleeps N milliseconds instead (to let interval probes fire while the target lives). */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	static char buf[1 << 20];
	int fd = open("/dev/zero", O_RDONLY);
	if (fd < 0 || dup2(fd, 100) < 0)
		return 1;
	for (int i = 1; i < argc; i++) {
		if (argv[i][0] == 's') {
			usleep(1000 * strtoul(argv[i] + 1, NULL, 0));
			continue;
		}
		size_t n = strtoul(argv[i], NULL, 0);
		if (n > sizeof(buf))
			n = sizeof(buf);
		if (read(100, buf, n) < 0)
			return 1;
	}
	return 0;
}
