BEGIN {
    printf("hello\n");
    if (pid > 1) {
        exit();
    }
