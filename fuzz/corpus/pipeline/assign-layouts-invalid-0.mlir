// expected-error@+1 {{no mesh: pass the 'mesh' option (e.g. mesh="b:4,e:2") or give the module an 'mtf.mesh' attribute}}
module {
}
