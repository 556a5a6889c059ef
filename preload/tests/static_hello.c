/* static_hello.c: a statically linked program (built with -static), which
 * LD_PRELOAD cannot reach: rampart preload must warn about it. */
#include <stdio.h>

int main(void)
{
	puts("static hello");
	return 0;
}
