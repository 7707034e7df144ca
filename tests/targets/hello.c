/* The smallest target: proves the harness builds targets and `{targets}` resolves. */
#include <stdio.h>

int main(void)
{
	puts("hello from a test target");
	return 0;
}
