#include <rte_launch.h>
#include <rte_lcore.h>

#include "shim.h"
#include "_cgo_export.h"

unsigned int tb_lcore_id(void)
{
	return rte_lcore_id();
}

int tb_lcore_is_running(unsigned int lcore)
{
	return rte_eal_get_lcore_state(lcore) == RUNNING;
}

/* An lcore_function_t that runs a Go func named by a runtime/cgo.Handle. */
static int tb_go_lcore_entry(void *arg)
{
	return tbGoLcoreEntry((uintptr_t)arg);
}

void *tb_go_lcore_entry_ptr(void)
{
	return (void *)tb_go_lcore_entry;
}

/* A handle is an integer, not a Go pointer: C may keep it as the lcore arg. */
void *tb_handle_arg(uintptr_t handle)
{
	return (void *)handle;
}
