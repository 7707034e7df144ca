BEGIN {
    printf("hello world\n);
}
