"""lavaan's model syntax for the latent variable family: the parser and the compiler to patterns."""
