// SPDX-License-Identifier: MIT
/*
 * lru.c - the four LRU lists (anon and file, each active and inactive).
 *
 * Lists are ordered newest at the head; reclaim scans from the tail.  A
 * page's list follows from its flags (PG_ANON, PG_ACTIVE), so moving a page
 * is a flag change and a relink, never an allocation.
 */
#include "vm_internal.h"

enum vm_lru vm_page_lru(const struct page *p)
{
	unsigned base = (p->flags & PG_ANON) ? VM_LRU_ANON_INACTIVE :
					       VM_LRU_FILE_INACTIVE;

	return (enum vm_lru)(base + ((p->flags & PG_ACTIVE) ? 1 : 0));
}

void vm_lru_add(struct vm *vm, struct page *p)
{
	enum vm_lru l;

	LB_ASSERT(!(p->flags & PG_LRU));
	p->flags |= PG_LRU;
	l = vm_page_lru(p);
	list_add(&p->lru, &vm->lru[l]);
	gauge_add(&vm->st.lru[l], 1);
}

void vm_lru_del(struct vm *vm, struct page *p)
{
	enum vm_lru l = vm_page_lru(p);

	LB_ASSERT(p->flags & PG_LRU);
	list_del(&p->lru);
	gauge_add(&vm->st.lru[l], -1);
	p->flags &= ~(PG_LRU | PG_ACTIVE);
}

void vm_lru_rotate(struct vm *vm, struct page *p)
{
	LB_ASSERT(p->flags & PG_LRU);
	list_del(&p->lru);
	list_add(&p->lru, &vm->lru[vm_page_lru(p)]);
}

void vm_lru_activate(struct vm *vm, struct page *p)
{
	vm_lru_del(vm, p);
	p->flags |= PG_ACTIVE;
	vm_lru_add(vm, p);
}

void vm_lru_deactivate(struct vm *vm, struct page *p)
{
	vm_lru_del(vm, p);
	vm_lru_add(vm, p);
}
