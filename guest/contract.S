/*
 * contract.S - embeds the guest descriptor (docs/guest-contract.md) in the
 * ELF section .rig_contract: the common lines, then the KVA policy's.
 * The section is not loaded; the rig reads it from the file.
 */
	.section .rig_contract, "", @progbits
	.incbin "pmap.contract"
	.incbin POLICY_CONTRACT
