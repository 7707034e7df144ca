BEGIN { printf("hi") }}
