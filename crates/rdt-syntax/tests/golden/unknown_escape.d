BEGIN { printf("%s\q", comm); }
