BEGIN {
    @x = 1;
    /* counts opens
    @y = 2;
}
