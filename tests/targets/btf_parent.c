/* A parent with a known name (`btf_parent`) whose forked child writes one line: kernel-type
 * cases check `curtask->real_parent->comm` in the child. */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
	pid_t child = fork();
	if (child == 0) {
		static const char line[] = "child says hi\n";
		write(1, line, sizeof line - 1);
		return 0;
	}
	if (child > 0)
		waitpid(child, NULL, 0);
	return 0;
}
