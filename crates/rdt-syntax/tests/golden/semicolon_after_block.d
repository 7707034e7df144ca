BEGIN { printf("start\n"); };
END { exit(); }
