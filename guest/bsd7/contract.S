/* contract.S - embeds bsd7.contract in the ELF section .rig_contract (not loaded). */
	.section .rig_contract, "", @progbits
	.incbin "bsd7.contract"
