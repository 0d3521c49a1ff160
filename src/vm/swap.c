// SPDX-License-Identifier: MIT
/*
 * swap.c - the swap device and its slot map.
 *
 * The bitmap is sized when swap is attached (one bit a page-sized slot of
 * the device), so taking a slot during reclaim is a bit scan, never an
 * allocation.  A page keeps its slot until its region is unmapped: a clean
 * swapped-in page can then be dropped without another write.
 */
#include <errno.h>
#include <stdlib.h>
#include "vm_internal.h"

#define BITS_PER_LONG (8 * sizeof(unsigned long))

int vm_swapon(struct vm *vm, struct blkdev *bd)
{
	return vm_swapon_range(vm, bd, 0, bd->lim.capacity / PAGE_SIZE);
}

int vm_swapon_range(struct vm *vm, struct blkdev *bd, uint64_t offset,
		    uint64_t nr)
{
	if (vm->swap.bd)
		return -EBUSY;
	if (!nr || bd->lim.read_only || offset % PAGE_SIZE ||
	    offset > bd->lim.capacity ||
	    nr > (bd->lim.capacity - offset) / PAGE_SIZE)
		return -EINVAL;
	vm->swap.map =
		calloc(DIV_ROUND_UP(nr, BITS_PER_LONG), sizeof(unsigned long));
	if (!vm->swap.map)
		return -ENOMEM;
	vm->swap.bd = bd;
	vm->swap.offset = offset;
	vm->swap.nr_slots = nr;
	vm->swap.nr_used = 0;
	vm->swap.hint = 0;
	lb_info(&vm->host->log, "vm: swap on %s: %llu slots", bd->name,
		(unsigned long long)nr);
	return 0;
}

int vm_swapoff(struct vm *vm)
{
	if (!vm->swap.bd)
		return 0;
	if (vm->swap.nr_used)
		return -EBUSY;
	free(vm->swap.map);
	vm->swap = (struct vm_swap){ 0 };
	return 0;
}

int64_t vm_swap_slot_get(struct vm *vm)
{
	struct vm_swap *s = &vm->swap;

	if (!s->bd || s->nr_used == s->nr_slots)
		return -ENOSPC;
	for (uint64_t n = 0; n < s->nr_slots; n++) {
		uint64_t slot = (s->hint + n) % s->nr_slots;
		unsigned long bit = 1ul << (slot % BITS_PER_LONG);
		unsigned long *w = &s->map[slot / BITS_PER_LONG];

		if (*w & bit)
			continue;
		*w |= bit;
		s->nr_used++;
		s->hint = slot + 1;
		gauge_set(&vm->st.swap_used, (int64_t)s->nr_used);
		return (int64_t)slot;
	}
	LB_ASSERT(0);
	return -ENOSPC;
}

void vm_swap_slot_put(struct vm *vm, uint64_t slot)
{
	struct vm_swap *s = &vm->swap;
	unsigned long bit = 1ul << (slot % BITS_PER_LONG);

	LB_ASSERT(slot < s->nr_slots && (s->map[slot / BITS_PER_LONG] & bit));
	s->map[slot / BITS_PER_LONG] &= ~bit;
	s->nr_used--;
	gauge_set(&vm->st.swap_used, (int64_t)s->nr_used);
}
