/*
 * stub_hal_lx106.c: the flasher stub's hardware layer on the ESP8266 itself. Cross-compiled only
 * (xtensa-lx106-elf-gcc, see Makefile.inc and mkstubimage.sh); never part of a host build.
 *
 * Every ROM function the stub calls is declared once below with its address from
 * ../shared/reference/stub.md (Espressif's eagle.rom.addr.v6.ld). Calling through a constant
 * function pointer makes the compiler load the address into a register and use callx0, which
 * reaches the mask ROM from IRAM without linker tricks.
 *
 * Start-up (stub.md "Start-up"): stub_entry sets a0 = 0x400010A8 and jumps to stub_main, so a C
 * return from stub_main lands in the ROM's flash-boot path (RUN_USER_CODE). stub_main clears the
 * user-start hook, zeroes .bss, attaches the flash and tells the ROM it is 16 MB, hooks UART0's
 * receive interrupt into a ring buffer, sends OHAI, and then moves bytes from the ring into
 * stub_feed() and calls stub_poll() in between.
 *
 * Why an interrupt and a ring: while the stub erases and programs a 16 KB block (tens to
 * hundreds of ms) the host already sends the next one, and UART0's RX FIFO holds 128 bytes.
 *
 * Not verified on hardware (we have none): the argument lists of SelectSpiFunction and
 * spi_flash_attach (we pass zeros, which is harmless if they take none), and the UART_CONF1
 * threshold layout, which comes from Espressif's uart_register.h, not from stub.md.
 */
#include <stddef.h>
#include <stdint.h>

#include "stub/stub.h"

/* ---- ROM functions (address, signature) ---- */
#define ROM_FN(type, name, addr, args) static type(*const name) args = (type(*) args)(addr)

ROM_FN(int, SPIRead, 0x40004B1C, (uint32_t addr, void *dst, uint32_t len));
ROM_FN(int, SPIWrite, 0x40004A4C, (uint32_t addr, const void *src, uint32_t len));
ROM_FN(int, SPIEraseSector, 0x40004A00, (uint32_t sector));
ROM_FN(int, SPIEraseBlock, 0x400049B4, (uint32_t block));
ROM_FN(int, SPIEraseChip, 0x40004984, (void));
ROM_FN(int, SPIUnlock, 0x40004878, (void));
ROM_FN(int, SPIParamCfg, 0x40004C2C, (uint32_t id, uint32_t size, uint32_t block,
    uint32_t sector, uint32_t page, uint32_t status_mask));
ROM_FN(void, SelectSpiFunction, 0x40003F58, (uint32_t ishspi));
ROM_FN(void, spi_flash_attach, 0x40004644, (uint32_t ishspi, uint32_t legacy));
ROM_FN(void, MD5Init, 0x40009818, (void *ctx));
ROM_FN(void, MD5Update, 0x40009834, (void *ctx, const void *data, uint32_t len));
ROM_FN(void, MD5Final, 0x40009900, (uint8_t digest[16], void *ctx));
ROM_FN(int, uart_tx_one_char, 0x40003B30, (uint8_t c));
ROM_FN(void, uart_div_modify, 0x400039D8, (uint32_t uart, uint32_t div));
ROM_FN(void, ets_delay_us, 0x40002ECC, (uint32_t us));
ROM_FN(void, ets_isr_attach, 0x40000F88, (int intr, void (*fn)(void *), void *arg));
ROM_FN(void, ets_isr_mask, 0x40000F98, (uint32_t mask));
ROM_FN(void, ets_isr_unmask, 0x40000FA8, (uint32_t mask));
ROM_FN(void, ets_set_user_start, 0x40000FBC, (void (*fn)(void)));
ROM_FN(void, software_reset, 0x4000264C, (void));

/* ---- registers (stub.md "Registers used directly") ---- */
#define REG(a) (*(volatile uint32_t *)(a))
#define UART0_FIFO REG(0x60000000)
#define UART0_INT_ST REG(0x60000008)
#define UART0_INT_ENA REG(0x6000000C)
#define UART0_INT_CLR REG(0x60000010)
#define UART0_CLKDIV REG(0x60000014)
#define UART0_STATUS REG(0x6000001C)
#define UART0_CONF1 REG(0x60000024)
#define UART_RXFIFO_FULL (1u << 0)
#define UART_RXFIFO_TOUT (1u << 8)
#define ETS_UART0_INUM 5
#define FLASH_MAX_SIZE (16u << 20)

/* ---- state in DRAM (.bss) ---- */
#define RX_RING 0x6000u /* holds the next 16 KB block, escapes included, while one is written */
#define RX_SLICE 256u   /* most bytes handed to stub_feed() at once (see stub_main) */

static struct stub stub;
static uint8_t rx_ring[RX_RING];
static volatile uint32_t rx_head, rx_tail; /* head: ISR writes; tail: main loop reads */
static uint32_t bounce[64];                /* word-aligned copy buffer for SPIRead / SPIWrite */

extern uint32_t _bss_start, _bss_end;     /* from stub_lx106.ld */
void stub_main(void);

__asm__(
	"	.section .entry.text, \"ax\"\n"
	"	.literal_position\n"
	"	.align 4\n"
	"	.global stub_entry\n"
	"	.type stub_entry, @function\n"
	"stub_entry:\n"
	"	movi a0, 0x400010A8\n"   /* return address of stub_main: the ROM's flash boot */
	"	j stub_main\n");

static void
uart_isr(void *arg)
{
	(void)arg;
	while (UART0_STATUS & 0xFFu) {
		uint8_t c = (uint8_t)UART0_FIFO;
		uint32_t next = rx_head + 1 == RX_RING ? 0 : rx_head + 1; /* no divide on the LX106 */

		if (next != rx_tail) { /* when full, drop: the host resends on a bad reply */
			rx_ring[rx_head] = c;
			rx_head = next;
		}
	}
	UART0_INT_CLR = UART_RXFIFO_FULL | UART_RXFIFO_TOUT;
}

/* ---- the HAL ---- */

static int
h_flash_read(void *ctx, uint32_t addr, void *dst, uint32_t len)
{
	uint8_t *d = dst;

	(void)ctx;
	if (((addr | len | (uint32_t)(uintptr_t)dst) & 3u) == 0)
		return SPIRead(addr, dst, len) != 0;
	/* Unaligned: read covering words through the bounce buffer. */
	while (len > 0) {
		uint32_t base = addr & ~3u, skip = addr - base;
		uint32_t n = sizeof bounce - skip < len ? sizeof bounce - skip : len;
		const uint8_t *b = (const uint8_t *)bounce;

		if (SPIRead(base, bounce, (skip + n + 3u) & ~3u) != 0)
			return 1;
		for (uint32_t i = 0; i < n; i++)
			d[i] = b[skip + i];
		d += n;
		addr += n;
		len -= n;
	}
	return 0;
}

static int
h_flash_write(void *ctx, uint32_t addr, const void *src, uint32_t len)
{
	const uint8_t *s = src;

	(void)ctx;
	if (((uint32_t)(uintptr_t)src & 3u) == 0)
		return SPIWrite(addr, src, len) != 0;
	while (len > 0) { /* addr and len are word multiples (stub_hal.h); only src is not */
		uint32_t n = len < sizeof bounce ? len : sizeof bounce;
		uint8_t *b = (uint8_t *)bounce;

		for (uint32_t i = 0; i < n; i++)
			b[i] = s[i];
		if (SPIWrite(addr, bounce, n) != 0)
			return 1;
		s += n;
		addr += n;
		len -= n;
	}
	return 0;
}

static int
h_erase_sector(void *ctx, uint32_t sector)
{
	(void)ctx;
	return SPIEraseSector(sector) != 0;
}

static int
h_erase_block(void *ctx, uint32_t block)
{
	(void)ctx;
	return SPIEraseBlock(block) != 0;
}

static int
h_erase_chip(void *ctx)
{
	(void)ctx;
	return SPIEraseChip() != 0;
}

static int
h_unlock(void *ctx)
{
	(void)ctx;
	return SPIUnlock() != 0;
}

static int
h_set_params(void *ctx, const uint32_t p[6])
{
	(void)ctx;
	return SPIParamCfg(p[0], p[1], p[2], p[3], p[4], p[5]) != 0;
}

static int
h_attach(void *ctx)
{
	(void)ctx;
	spi_flash_attach(0, 0);
	return 0;
}

static void
h_uart_tx(void *ctx, const uint8_t *data, size_t len)
{
	(void)ctx;
	for (size_t i = 0; i < len; i++)
		uart_tx_one_char(data[i]);
}

static void
tx_drain(void)
{
	while ((UART0_STATUS >> 16) & 0xFFu) /* TX FIFO count */
		;
}

/* a / b by shift and subtract: the LX106 has no divide instruction and Debian's libgcc for it
 * lacks __udivsi3. b != 0. */
static uint32_t
udiv(uint32_t a, uint32_t b)
{
	uint32_t q = 0, r = 0;

	for (int i = 31; i >= 0; i--) {
		r = (r << 1) | ((a >> i) & 1u);
		if (r >= b) {
			r -= b;
			q |= 1u << i;
		}
	}
	return q;
}

static void
h_uart_set_baud(void *ctx, uint32_t new_baud, uint32_t old_baud)
{
	/* stub.md: master = divider x current baud; new divider = master / new baud. The product
	 * fits 32 bits: divider x baud is the UART clock, 80 MHz on the ESP8266. */
	uint32_t div = UART0_CLKDIV & 0xFFFFFu;

	(void)ctx;
	if (new_baud == 0 || old_baud == 0)
		return;
	tx_drain();
	ets_delay_us(10000);
	uart_div_modify(0, udiv(div * old_baud, new_baud));
	ets_delay_us(1000);
}

static uint32_t
h_reg_read(void *ctx, uint32_t addr)
{
	(void)ctx;
	return REG(addr);
}

static void
h_reg_write(void *ctx, uint32_t addr, uint32_t value)
{
	(void)ctx;
	REG(addr) = value;
}

static void
h_delay_us(void *ctx, uint32_t us)
{
	(void)ctx;
	ets_delay_us(us);
}

static int
h_mem_write(void *ctx, uint32_t addr, const void *src, uint32_t len)
{
	const uint8_t *s = src;

	(void)ctx;
	/* Word stores when everything is aligned (IRAM takes nothing else), bytes otherwise. */
	if (((addr | len | (uint32_t)(uintptr_t)src) & 3u) == 0) {
		volatile uint32_t *d = (volatile uint32_t *)(uintptr_t)addr;
		const uint32_t *w = src;

		for (uint32_t i = 0; i < len / 4; i++)
			d[i] = w[i];
	} else {
		volatile uint8_t *d = (volatile uint8_t *)(uintptr_t)addr;

		for (uint32_t i = 0; i < len; i++)
			d[i] = s[i];
	}
	return 0;
}

static void
h_md5_init(void *ctx, struct stub_md5 *m)
{
	(void)ctx;
	MD5Init(m->u.bytes);
}

static void
h_md5_update(void *ctx, struct stub_md5 *m, const void *data, uint32_t len)
{
	(void)ctx;
	MD5Update(m->u.bytes, data, len);
}

static void
h_md5_final(void *ctx, struct stub_md5 *m, uint8_t digest[16])
{
	(void)ctx;
	MD5Final(digest, m->u.bytes);
}

static void
h_run_user_code(void *ctx)
{
	/* stub_main sees STUB_EXIT_USER and returns into the ROM (a0 = 0x400010A8). */
	(void)ctx;
}

static void
h_reset_to_rom(void *ctx)
{
	(void)ctx;
	tx_drain();
	ets_delay_us(10000);
	software_reset();
}

static void
h_mem_jump(void *ctx, uint32_t entry)
{
	(void)ctx;
	tx_drain();
	((void (*)(void))(uintptr_t)entry)();
}

static const struct stub_hal hal = {
	.flash_read = h_flash_read, .flash_write = h_flash_write,
	.flash_erase_sector = h_erase_sector, .flash_erase_block = h_erase_block,
	.flash_erase_chip = h_erase_chip, .flash_unlock = h_unlock,
	.flash_set_params = h_set_params, .flash_attach = h_attach,
	.uart_tx = h_uart_tx, .uart_set_baud = h_uart_set_baud,
	.reg_read = h_reg_read, .reg_write = h_reg_write, .delay_us = h_delay_us,
	.mem_write = h_mem_write,
	.md5_init = h_md5_init, .md5_update = h_md5_update, .md5_final = h_md5_final,
	.run_user_code = h_run_user_code, .reset_to_rom = h_reset_to_rom, .mem_jump = h_mem_jump,
};

void
stub_main(void)
{
	ets_set_user_start(0);
	for (uint32_t *p = &_bss_start; p < &_bss_end; p++)
		*p = 0;
	SelectSpiFunction(0);
	spi_flash_attach(0, 0);
	SPIParamCfg(0, FLASH_MAX_SIZE, STUB_BLOCK, STUB_SECTOR, 256, 0xFFFF);

	/* UART0 receive: interrupt on FIFO half full or 2 idle byte times. */
	ets_isr_mask(1u << ETS_UART0_INUM);
	UART0_CONF1 = (1u << 31) | (2u << 24) | 64u;
	UART0_INT_CLR = 0x1FFu;
	UART0_INT_ENA = UART_RXFIFO_FULL | UART_RXFIFO_TOUT;
	ets_isr_attach(ETS_UART0_INUM, uart_isr, 0);
	ets_isr_unmask(1u << ETS_UART0_INUM);

	stub_init(&stub, &hal);
	while (stub_state(&stub) != STUB_EXIT_USER) {
		uint32_t head = rx_head, tail = rx_tail;

		if (head != tail) {
			uint32_t n = head > tail ? head - tail : RX_RING - tail;

			/* In small slices: stub_feed() copies a command into its frame buffer and then
			 * programs the flash before it returns, and only then is the slice given back
			 * to the ring. Fed whole, a 16 KB block that waited in the ring would hold its
			 * ring space through its own programming, and the next block arriving
			 * meanwhile would overflow the ring. */
			if (n > RX_SLICE)
				n = RX_SLICE;
			stub_feed(&stub, rx_ring + tail, n);
			rx_tail = tail + n == RX_RING ? 0 : tail + n;
		}
		(void)stub_poll(&stub);
	}
	ets_isr_mask(1u << ETS_UART0_INUM);
	UART0_INT_ENA = 0;
	tx_drain();
}
