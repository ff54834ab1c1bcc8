"""synwall's hardware support: supported NICs (nics.toml), the host check (hw.check), host
preparation (hw.prepare), and the QEMU guest image used to run synwall-dp on an emulated
Intel NIC (hw.guest). See hw/README.md."""
