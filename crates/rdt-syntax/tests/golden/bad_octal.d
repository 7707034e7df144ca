BEGIN { @x = 09; }
