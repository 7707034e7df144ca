BEGIN { @t = 10sec; }
