{
  "targets": [
    {
      "target_name": "capbench",
      "sources": [
        "src/native/addon.cc",
        "src/native/counter.c",
        "src/native/counter_binding.cc",
        "src/native/clock.c",
        "src/native/clock_binding.cc",
        "src/native/cpu_placement.c",
        "src/native/packet_socket.c",
        "src/native/packet_socket_binding.cc",
        "src/native/pcap_native.c",
        "src/native/pcap_binding.cc",
        "src/native/generator.c",
        "src/native/generator_pacing.c",
        "src/native/generator_sendmmsg.c",
        "src/native/generator_tx_ring.c",
        "src/native/generator_binding.cc",
        "src/native/packet_mmap.c",
        "src/native/packet_mmap_binding.cc",
        "src/native/af_xdp_binding.cc",
        "src/native/fastnet.c",
        "src/native/fastnet_binding.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "_GNU_SOURCE"],
      "cflags": ["-O2", "-Wall", "-Wextra"],
      "cflags_c": ["-std=gnu11"],
      "cflags_cc": ["-O2", "-Wall", "-Wextra", "-fexceptions"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "libraries": ["-ldl", "-lpthread"],
      "conditions": [
        ["<!(test -f /usr/include/xdp/xsk.h && echo 1 || echo 0)==1", {
          "libraries": ["-lxdp", "-lbpf"],
          "sources": [
            "src/native/af_xdp.c",
            "src/native/af_xdp_xskmap.c",
            "src/native/af_xdp_program.c"
          ]
        }, {
          "sources": ["src/native/af_xdp_stubs.c"]
        }]
      ]
    }
  ]
}
