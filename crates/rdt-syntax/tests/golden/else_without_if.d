BEGIN {
    if (pid > 1) {
        exit();
    } else {
        print(@x);
    }
    else { exit(); }
}
