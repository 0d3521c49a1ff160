// SPDX-License-Identifier: MIT
/*
 * mapping.c - regions (anonymous, shared mappings, page cache), their page
 * tables and the dirty accounting of their pages.
 *
 * A region's tables are allocated when it is mapped (start-up), never while
 * it is paged: the region descriptor from the arena, the page table and
 * swap-slot table with calloc because they grow with the region.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "vm_internal.h"

void vm_page_set_dirty(struct vm *vm, struct page *p)
{
	if (p->flags & PG_DIRTY)
		return;
	p->flags |= PG_DIRTY;
	gauge_add(&vm->st.dirty, 1);
	if (!(p->flags & PG_ANON)) {
		gauge_add(&vm->st.dirty_file, 1);
		if (vm->st.dirty_file.v + (int64_t)vm->nr_wb_file >
		    vm->st.dirty_file_hwm.v)
			gauge_set(&vm->st.dirty_file_hwm,
				  vm->st.dirty_file.v +
					  (int64_t)vm->nr_wb_file);
	}
}

void vm_page_clear_dirty(struct vm *vm, struct page *p)
{
	if (!(p->flags & PG_DIRTY))
		return;
	p->flags &= ~PG_DIRTY;
	gauge_add(&vm->st.dirty, -1);
	if (!(p->flags & PG_ANON))
		gauge_add(&vm->st.dirty_file, -1);
}

bool vm_over_dirty_limit(const struct vm *vm)
{
	return (uint64_t)vm->st.dirty_file.v + vm->nr_wb_file >=
	       vm->dirty_limit;
}

void vm_page_evict(struct vm *vm, struct page *p)
{
	struct vm_region *r = vm_page_region(vm, p);
	uint64_t idx = vm_page_index(p);

	LB_ASSERT(!(p->flags & (PG_DIRTY | PG_WRITEBACK | PG_LOCKED)));
	LB_ASSERT(r->pages[idx] == p && p->refcount == 1);
	vm_lru_del(vm, p);
	r->pages[idx] = NULL;
	r->nr_resident--;
	gauge_add(&vm->st.resident, -1);
	p->flags &= ~(PG_ANON | PG_REFERENCED | PG_RECLAIM);
	p->private = 0;
	mm_page_put(vm->mm, p);
	vm_note_progress(vm);
}

static int vm_map(struct vm *vm, enum vm_region_kind kind, const char *name,
		  struct blkdev *bd, uint64_t offset, uint64_t nr_pages,
		  struct vm_region **out)
{
	struct vm_region *r;
	unsigned id;

	if (!nr_pages || nr_pages >= (1ull << VM_PRIV_SHIFT))
		return -EINVAL;
	if (bd && (offset % SECTOR_SIZE || offset > bd->lim.capacity ||
		   nr_pages > (bd->lim.capacity - offset) / PAGE_SIZE ||
		   bd->lim.max_request < PAGE_SIZE))
		return -EINVAL;
	for (id = 0; id < VM_MAX_REGIONS && vm->regions[id]; id++)
		;
	if (id == VM_MAX_REGIONS)
		return -ENOSPC;
	r = mm_kmalloc(vm->mm, sizeof(*r), MM_NORMAL | MM_ZERO, NULL);
	if (!r)
		return -ENOMEM;
	r->pages = calloc(nr_pages, sizeof(*r->pages));
	if (kind == VM_ANON)
		r->slots = calloc(nr_pages, sizeof(*r->slots));
	if (!r->pages || (kind == VM_ANON && !r->slots)) {
		free(r->pages);
		free(r->slots);
		mm_kfree(vm->mm, r);
		return -ENOMEM;
	}
	r->vm = vm;
	r->id = id;
	r->kind = kind;
	snprintf(r->name, sizeof(r->name), "%s", name ? name : "region");
	r->nr_pages = nr_pages;
	r->bd = bd;
	r->offset = offset;
	vm->regions[id] = r;
	host_trace(vm->host, "vm.map", id, kind, nr_pages);
	*out = r;
	return 0;
}

int vm_map_anon(struct vm *vm, const char *name, uint64_t nr_pages,
		struct vm_region **out)
{
	return vm_map(vm, VM_ANON, name, NULL, 0, nr_pages, out);
}

int vm_map_shared(struct vm *vm, const char *name, struct blkdev *bd,
		  uint64_t offset, uint64_t nr_pages, struct vm_region **out)
{
	if (bd->lim.read_only)
		return -EROFS;
	return vm_map(vm, VM_SHARED, name, bd, offset, nr_pages, out);
}

int vm_map_file(struct vm *vm, const char *name, struct blkdev *bd,
		uint64_t offset, uint64_t nr_pages, struct vm_region **out)
{
	if (bd->lim.read_only)
		return -EROFS;
	return vm_map(vm, VM_FILE, name, bd, offset, nr_pages, out);
}

int vm_unmap(struct vm_region *r)
{
	struct vm *vm = r->vm;

	if (r->nr_touches)
		return -EBUSY;
	for (uint64_t i = 0; i < r->nr_pages; i++)
		if (r->pages[i] &&
		    (r->pages[i]->flags & (PG_WRITEBACK | PG_LOCKED)))
			return -EBUSY;
	for (uint64_t i = 0; i < r->nr_pages; i++) {
		struct page *p = r->pages[i];

		if (p) {
			vm_page_clear_dirty(vm, p);
			vm_page_evict(vm, p);
		}
		if (r->slots && r->slots[i])
			vm_swap_slot_put(vm, r->slots[i] - 1);
	}
	LB_ASSERT(!r->nr_resident);
	host_trace(vm->host, "vm.unmap", r->id, r->kind, r->nr_pages);
	vm->regions[r->id] = NULL;
	free(r->pages);
	free(r->slots);
	mm_kfree(vm->mm, r);
	return 0;
}
