BEGIN {
    if ($x = 1) {
        exit();
    }
}
