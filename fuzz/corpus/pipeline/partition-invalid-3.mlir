// expected-error@+1 {{module already has a symbol 'mesh'; is it partitioned already?}}
module attributes {mtf.mesh = #mtf.mesh<"b:2">} {
  shard.grid @mesh(shape = 2)
}
