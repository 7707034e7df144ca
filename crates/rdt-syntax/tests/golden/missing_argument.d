BEGIN { @x = count(; }
