/* SPDX-License-Identifier: BSD-3-Clause */
/* Port setup: one RX and one TX queue per worker on each port, symmetric RSS, checksum
 * offloads where the NIC has them. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <rte_ethdev.h>

#include "app.h"

/*
 * A Toeplitz key made of one repeated 16-bit pattern hashes (a, b) and (b, a) alike, so both
 * directions of a connection land on the same queue, and with the same key on both ports,
 * on the same worker (Woo & Park, "Scalable TCP Session Monitoring with Symmetric RSS").
 */
static uint8_t sym_rss_key[52] = {
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d,
	0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
	0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d,
	0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
};

static int
port_init(struct sw_app *app, struct sw_port *p, const char *role)
{
	uint16_t nq = (uint16_t)app->nb_workers;
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;
	uint16_t nrx = SW_RX_DESC, ntx = SW_TX_DESC;
	uint64_t want_tx = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
	uint64_t want_rx = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM;
	int socket, rc;
	uint16_t q;

	if (!rte_eth_dev_is_valid_port(p->id)) {
		fprintf(stderr, "synwall-dp: --%s: port %u does not exist (%u ports probed)\n",
			role, p->id, rte_eth_dev_count_avail());
		return -1;
	}
	rc = rte_eth_dev_info_get(p->id, &info);
	if (rc != 0) {
		fprintf(stderr, "synwall-dp: %s port %u: cannot read device info: %s\n",
			role, p->id, rte_strerror(-rc));
		return -1;
	}
	if (info.max_rx_queues < nq || info.max_tx_queues < nq) {
		fprintf(stderr, "synwall-dp: %s port %u (%s) has %u RX / %u TX queues, %u workers "
			"need %u of each\n", role, p->id, info.driver_name, info.max_rx_queues,
			info.max_tx_queues, nq, nq);
		return -1;
	}

	memset(&conf, 0, sizeof(conf));
	if (nq > 1) {
		/*
		 * Both directions of a connection must meet on one worker, or the server's
		 * segments reach one that does not hold the flow. af_packet's kernel fanout
		 * hash is symmetric by itself; a NIC must take our symmetric key.
		 */
		bool kernel_fanout = strcmp(info.driver_name, "net_af_packet") == 0;

		if (!kernel_fanout && (info.flow_type_rss_offloads == 0 ||
				       info.hash_key_size < 40 ||
				       info.hash_key_size > sizeof(sym_rss_key))) {
			fprintf(stderr, "synwall-dp: %s port %u (%s) cannot hash both directions "
				"of a connection to one queue (RSS key of %u bytes, hash types "
				"%#" PRIx64 "): run one worker on it\n", role, p->id,
				info.driver_name, info.hash_key_size, info.flow_type_rss_offloads);
			return -1;
		}
		if (!kernel_fanout) {
			conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
			conf.rx_adv_conf.rss_conf.rss_hf = (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP) &
							   info.flow_type_rss_offloads;
			conf.rx_adv_conf.rss_conf.rss_key = sym_rss_key;
			conf.rx_adv_conf.rss_conf.rss_key_len = info.hash_key_size;
		}
	}
	/* Software checksums when the NIC cannot: both paths produce the same bytes. */
	p->tx_csum = (info.tx_offload_capa & want_tx) == want_tx &&
		     (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM);
	if (p->tx_csum)
		conf.txmode.offloads |= want_tx;
	p->rx_csum = (info.rx_offload_capa & want_rx) == want_rx;
	if (p->rx_csum)
		conf.rxmode.offloads |= want_rx;

	rc = rte_eth_dev_configure(p->id, nq, nq, &conf);
	if (rc != 0) {
		fprintf(stderr, "synwall-dp: %s port %u: configure failed: %s\n", role, p->id,
			rte_strerror(-rc));
		return -1;
	}
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(p->id, &nrx, &ntx);
	if (rc != 0) {
		fprintf(stderr, "synwall-dp: %s port %u: descriptors: %s\n", role, p->id,
			rte_strerror(-rc));
		return -1;
	}
	socket = rte_eth_dev_socket_id(p->id);
	if (socket < 0)
		socket = (int)rte_socket_id();
	for (q = 0; q < nq; q++) {
		struct rte_eth_rxconf rxc = info.default_rxconf;
		struct rte_eth_txconf txc = info.default_txconf;

		rxc.offloads = conf.rxmode.offloads;
		txc.offloads = conf.txmode.offloads;
		rc = rte_eth_rx_queue_setup(p->id, q, nrx, (unsigned int)socket, &rxc, app->pool);
		if (rc == 0)
			rc = rte_eth_tx_queue_setup(p->id, q, ntx, (unsigned int)socket, &txc);
		if (rc != 0) {
			fprintf(stderr, "synwall-dp: %s port %u queue %u: setup failed: %s\n",
				role, p->id, q, rte_strerror(-rc));
			return -1;
		}
	}
	/* A bump in the wire sees frames for the servers' MACs, not ours. */
	rte_eth_promiscuous_enable(p->id);
	rc = rte_eth_dev_start(p->id);
	if (rc != 0) {
		fprintf(stderr, "synwall-dp: %s port %u: start failed: %s\n", role, p->id,
			rte_strerror(-rc));
		return -1;
	}
	/* The same indirection table on both ports (hash i -> queue i mod workers): with the
	 * same key, a hash maps to the same worker whatever each NIC's default table. */
	if (conf.rxmode.mq_mode == RTE_ETH_MQ_RX_RSS && info.reta_size > 0) {
		struct rte_eth_rss_reta_entry64 reta[RTE_ETH_RSS_RETA_SIZE_512 /
						     RTE_ETH_RETA_GROUP_SIZE];
		uint16_t i;

		memset(reta, 0, sizeof(reta));
		for (i = 0; i < info.reta_size && i < RTE_ETH_RSS_RETA_SIZE_512; i++) {
			reta[i / RTE_ETH_RETA_GROUP_SIZE].mask |= 1ULL << (i % RTE_ETH_RETA_GROUP_SIZE);
			reta[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE] = i % nq;
		}
		rc = rte_eth_dev_rss_reta_update(p->id, reta, info.reta_size);
		if (rc != 0)
			fprintf(stderr, "synwall-dp: %s port %u: RSS table not set (%s): the "
				"NIC's default is used\n", role, p->id, rte_strerror(-rc));
	}
	printf("synwall-dp: %s port %u (%s): %u queue pair(s), TX checksum %s, RX checksum "
	       "%s, RSS %s\n", role, p->id, info.driver_name, nq,
	       p->tx_csum ? "offloaded" : "in software", p->rx_csum ? "offloaded" : "in software",
	       conf.rxmode.mq_mode == RTE_ETH_MQ_RX_RSS ? "symmetric" : "off");
	return 0;
}

int
sw_ports_init(struct sw_app *app)
{
	app->outside.id = app->args.outside_port;
	app->inside.id = app->args.inside_port;
	if (port_init(app, &app->outside, "outside") < 0)
		return -1;
	if (port_init(app, &app->inside, "inside") < 0)
		return -1;
	return 0;
}

void
sw_ports_stop(struct sw_app *app)
{
	struct sw_port *ports[2] = { &app->outside, &app->inside };
	int i;

	for (i = 0; i < 2; i++) {
		if (!rte_eth_dev_is_valid_port(ports[i]->id))
			continue;
		rte_eth_dev_stop(ports[i]->id);
		rte_eth_dev_close(ports[i]->id);
	}
}
