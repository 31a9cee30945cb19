// expected-error@+1 {{the module is already partitioned (it has a 'shard.grid'); layouts apply to global programs}}
module attributes {mtf.mesh = #mtf.mesh<"b:2">} {
  shard.grid @mesh(shape = 2)
}
