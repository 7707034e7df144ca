BEGIN {
    = 5;
}
