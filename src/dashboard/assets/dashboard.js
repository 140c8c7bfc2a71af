// The operations dashboard in the browser: everything through the public GraphQL API, with the
// session cookie (same origin). The figures come from orderStatistics; the table of counts then
// follows the orderEvents stream (an EventSource), resumed after the last sequence seen, so no
// event is counted twice or missed. Charts: Chart.js, served by the service itself.
'use strict';

(function () {
  const texts = JSON.parse(document.getElementById('dashboard-texts').textContent);
  const language = document.documentElement.lang;
  const STATUSES = ['CREATED', 'INITIALIZED', 'IDENTIFICATION_DONE', 'DATA_READY', 'TERMINATED', 'ERROR', 'NEGATIVELY_CONDUCTED', 'TIMEOUT', 'CANCELED', 'ABORTED'];
  const MAX_EVENTS = 50;
  const CHART_REFRESH_MS = 1500;
  const RECONNECT_MS = 1000;
  /** How many sequences before the figures the stream replays to fill the list of events. */
  const LIST_REPLAY = 500n;
  /** How many deliveries in trouble the webhooks section lists. */
  const TROUBLE_SHOWN = 5;

  /** A text by its dotted key, with {{name}} placeholders filled in. */
  function t(key, values) {
    let value = key.split('.').reduce((node, part) => (node && typeof node === 'object' ? node[part] : undefined), texts);
    if (typeof value !== 'string') return key;
    for (const [name, replacement] of Object.entries(values || {})) value = value.split(`{{${name}}}`).join(String(replacement));
    return value;
  }

  function element(tag, attributes, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (name === 'text') node.textContent = value;
      else node.setAttribute(name, value === true ? '' : String(value));
    }
    for (const child of children) if (child !== null && child !== undefined) node.append(child);
    return node;
  }

  /** A table in a box that scrolls sideways on a narrow screen (and takes the keyboard's focus to do so). */
  function scrollTable(attributes, caption, headings, rows) {
    return element(
      'div',
      { class: 'scroll', tabindex: 0 },
      element('table', attributes, element('caption', { text: caption }), element('thead', null, element('tr', null, ...headings)), element('tbody', null, ...rows)),
    );
  }

  const numberFormat = new Intl.NumberFormat(language);
  const percentFormat = new Intl.NumberFormat(language, { style: 'percent', maximumFractionDigits: 1 });
  const timeFormat = new Intl.DateTimeFormat(language, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  const dateTimeFormat = new Intl.DateTimeFormat(language, { dateStyle: 'short', timeStyle: 'medium' });

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return '–';
    if (seconds < 60) return `${numberFormat.format(Math.round(seconds))} s`;
    if (seconds < 3600) return `${numberFormat.format(Math.round(seconds / 6) / 10)} min`;
    return `${numberFormat.format(Math.round(seconds / 360) / 10)} h`;
  }

  async function graphql(query, variables) {
    const response = await fetch('/graphql', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
      body: JSON.stringify({ query, variables }),
    });
    const body = await response.json();
    if (body.errors && body.errors.length) {
      const error = new Error(body.errors[0].message);
      error.code = body.errors[0].extensions && body.errors[0].extensions.code;
      throw error;
    }
    return body.data;
  }

  /** The session's token no longer works (expired, revoked, client disabled): end the session too. */
  function signedOut() {
    const form = document.querySelector('form.sign-out');
    if (form) form.submit();
    else window.location.assign(`/dashboard?lang=${language}`);
  }

  if (document.body.dataset.page === 'timeline') return void showTimeline();
  showDashboard();

  // ---- the dashboard ---------------------------------------------------------------------------

  function showDashboard() {
    const STATISTICS = `query DashboardStatistics($period: StatisticsPeriod) {
      viewer { name role }
      orderStatistics(period: $period) {
        from asOfSequence total
        byStatus { status count }
        byProvider { clientId name total byStatus { status count } }
        methods {
          methodId methodName issuer placed initialized identificationDone terminated termsAccepted
          dropOffs { status reason count }
          placedToTerminated { count medianSeconds p90Seconds }
          terminatedToTermsAccepted { count medianSeconds p90Seconds }
        }
        partnerHealth { issuer ended errors timeouts errorRate timeoutRate }
      }
    }`;
    // Per endpoint: its deliveries counted by state, and the latest in trouble (failed for good,
    // or pending after a failed attempt), so a failing receiver shows at once.
    const WEBHOOKS = `query DashboardWebhooks {
      webhookEndpoints {
        id url enabled
        pending: deliveries(status: PENDING, first: ${TROUBLE_SHOWN}) { totalCount edges { node { ...Trouble } } }
        delivered: deliveries(status: DELIVERED, first: 1) { totalCount }
        failed: deliveries(status: FAILED, first: ${TROUBLE_SHOWN}) { totalCount edges { node { ...Trouble } } }
      }
    }
    fragment Trouble on WebhookDelivery { messageId refId status attempts lastResponseStatus lastError nextAttemptAt createdAt }`;
    const EVENTS = `subscription DashboardEvents($after: String) {
      orderEvents(filter: { afterSequence: $after }) {
        sequence refId type status previousStatus reason at
        order { createdAt method { name issuer } }
      }
    }`;

    const periodSelect = document.getElementById('period');
    const statusBody = document.querySelector('#orders-by-status tbody');
    const totalCell = document.getElementById('orders-total');
    const streamState = document.getElementById('stream-state');
    const eventList = document.getElementById('events');
    const noEvents = document.getElementById('no-events');
    const charts = new Map();

    let counts = {};
    let total = 0;
    let periodFrom = 0;
    /** Events up to this sequence are in the counts. */
    let countedUpTo = 0n;
    /** The last event the stream delivered: a new stream resumes after it. */
    let lastSeen = 0n;
    let source = null;
    let reconnectTimer = null;
    let refreshTimer = null;
    let generation = 0;

    const savedPeriod = new URLSearchParams(window.location.search).get('period');
    if (savedPeriod && [...periodSelect.options].some((option) => option.value === savedPeriod)) periodSelect.value = savedPeriod;
    periodSelect.addEventListener('change', () => {
      const url = new URL(window.location.href);
      url.searchParams.set('period', periodSelect.value);
      window.history.replaceState(null, '', url);
      void start();
    });

    function setStreamState(state) {
      streamState.dataset.state = state;
      streamState.textContent = t(`events.${state}`);
    }

    function renderCounts() {
      statusBody.replaceChildren(
        ...STATUSES.map((status) =>
          element('tr', { 'data-status': status }, element('th', { scope: 'row', text: t(`statuses.${status}`) }), element('td', { class: 'number', text: numberFormat.format(counts[status] || 0) })),
        ),
      );
      totalCell.textContent = numberFormat.format(total);
    }

    function renderProviders(providers) {
      const container = document.getElementById('providers');
      if (!providers.length) {
        container.hidden = true;
        return;
      }
      container.hidden = false;
      const used = STATUSES.filter((status) => providers.some((provider) => provider.byStatus.some((entry) => entry.status === status && entry.count > 0)));
      container.replaceChildren(
        scrollTable(
          { id: 'orders-by-provider' },
          t('providers.caption'),
          [element('th', { scope: 'col', text: t('providers.provider') }), ...used.map((status) => element('th', { scope: 'col', class: 'number', text: t(`statuses.${status}`) })), element('th', { scope: 'col', class: 'number', text: t('byStatus.total') })],
          providers.map((provider) =>
            element(
              'tr',
              null,
              element('th', { scope: 'row', text: provider.name }),
              ...used.map((status) => element('td', { class: 'number', text: numberFormat.format((provider.byStatus.find((entry) => entry.status === status) || { count: 0 }).count) })),
              element('td', { class: 'number', text: numberFormat.format(provider.total) }),
            ),
          ),
        ),
      );
    }

    function chart(id, config) {
      const existing = charts.get(id);
      if (existing) {
        existing.data = config.data;
        existing.update('none');
        return;
      }
      const canvas = document.getElementById(id);
      if (!canvas || typeof Chart === 'undefined') return;
      charts.set(id, new Chart(canvas, config));
    }

    const barOptions = (horizontal, max) => ({
      indexAxis: horizontal ? 'y' : 'x',
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      plugins: { legend: { display: !horizontal }, tooltip: { enabled: true } },
      scales: { x: { beginAtZero: true, max, ticks: { precision: 0 } }, y: { beginAtZero: true } },
    });

    function renderFunnels(methods) {
      const container = document.getElementById('funnels');
      const steps = ['placed', 'initialized', 'identificationDone', 'terminated', 'termsAccepted'];
      const labels = { placed: t('funnel.placed'), initialized: t('funnel.initialized'), identificationDone: t('funnel.identified'), terminated: t('funnel.terminated'), termsAccepted: t('funnel.termsAccepted') };
      if (!methods.length) {
        for (const [id, instance] of charts) if (id.startsWith('funnel-')) (instance.destroy(), charts.delete(id));
        container.replaceChildren(element('p', { class: 'meta', text: t('funnel.none') }));
        return;
      }
      const present = new Set(methods.map((method) => method.methodId));
      for (const [id, instance] of charts) if (id.startsWith('funnel-') && !present.has(instance.$methodId)) (instance.destroy(), charts.delete(id));
      const blocks = methods.map((method, index) => {
        const id = `funnel-${index}`;
        const title = `${method.methodName} · ${method.issuer}`;
        const rows = steps.map((step, position) => {
          const previous = position === 0 ? null : method[steps[position - 1]];
          const conversion = previous ? t('funnel.conversion', { percent: percentFormat.format(method[step] / previous) }) : '';
          return element('tr', null, element('th', { scope: 'row', text: labels[step] }), element('td', { class: 'number', text: numberFormat.format(method[step]) }), element('td', { class: 'meta', text: conversion }));
        });
        const dropOffs = method.dropOffs.length
          ? element(
              'ul',
              { class: 'drop-offs', 'aria-label': `${t('funnel.dropOffs')}: ${title}` },
              ...method.dropOffs.map((dropOff) => element('li', null, element('strong', { text: `${t(`statuses.${dropOff.status}`)}: ${numberFormat.format(dropOff.count)}` }), dropOff.reason ? ` – ${dropOff.reason}` : '')),
            )
          : null;
        return element(
          'article',
          { class: 'method' },
          element('h3', { text: title }),
          element('div', { class: 'chart' }, element('canvas', { id, role: 'img', 'aria-label': `${t('funnel.heading')}: ${title}` })),
          element('table', { class: 'compact' }, element('caption', { text: `${t('funnel.heading')}: ${title}` }), element('tbody', null, ...rows)),
          dropOffs ? element('h4', { text: t('funnel.dropOffs') }) : null,
          dropOffs,
        );
      });
      // Charts are drawn again on their new canvases.
      for (const [id, instance] of charts) if (id.startsWith('funnel-')) (instance.destroy(), charts.delete(id));
      container.replaceChildren(...blocks);
      methods.forEach((method, index) => {
        chart(`funnel-${index}`, {
          type: 'bar',
          data: { labels: steps.map((step) => labels[step]), datasets: [{ label: method.methodName, data: steps.map((step) => method[step]), backgroundColor: '#2f6fb0' }] },
          options: barOptions(true),
        });
        charts.get(`funnel-${index}`) && (charts.get(`funnel-${index}`).$methodId = method.methodId);
      });
    }

    function renderTimings(methods) {
      const container = document.getElementById('timings');
      if (!methods.length) return void container.replaceChildren(element('p', { class: 'meta', text: t('funnel.none') }));
      const cell = (entry) => element('td', { class: 'number', text: `${duration(entry.medianSeconds)} / ${duration(entry.p90Seconds)}` });
      container.replaceChildren(
        scrollTable(
          { id: 'timings-table' },
          `${t('timings.heading')} (${t('timings.median')} / ${t('timings.p90')})`,
          [element('th', { scope: 'col', text: t('timings.method') }), element('th', { scope: 'col', class: 'number', text: t('timings.placedToTerminated') }), element('th', { scope: 'col', class: 'number', text: t('timings.terminatedToAccepted') })],
          methods.map((method) => element('tr', null, element('th', { scope: 'row', text: `${method.methodName} · ${method.issuer}` }), cell(method.placedToTerminated), cell(method.terminatedToTermsAccepted))),
        ),
      );
    }

    function renderHealth(partners) {
      const container = document.getElementById('partner-health');
      if (!partners.length) {
        charts.get('health-chart') && (charts.get('health-chart').destroy(), charts.delete('health-chart'));
        return void container.replaceChildren(element('p', { class: 'meta', text: t('health.none') }));
      }
      if (!document.getElementById('health-chart')) {
        container.replaceChildren(
          element('div', { class: 'chart' }, element('canvas', { id: 'health-chart', role: 'img', 'aria-label': t('health.heading') })),
          element('div', { class: 'scroll', tabindex: 0 }, element('table', { id: 'health-table' })),
        );
      }
      document.getElementById('health-table').replaceChildren(
        element('caption', { text: t('health.heading') }),
        element('thead', null, element('tr', null, ...['partner', 'ended', 'errorRate', 'timeoutRate'].map((key, index) => element('th', { scope: 'col', class: index ? 'number' : null, text: t(`health.${key}`) })))),
        element('tbody', null, ...partners.map((partner) => element('tr', null, element('th', { scope: 'row', text: partner.issuer }), element('td', { class: 'number', text: numberFormat.format(partner.ended) }), element('td', { class: 'number', text: percentFormat.format(partner.errorRate) }), element('td', { class: 'number', text: percentFormat.format(partner.timeoutRate) })))),
      );
      chart('health-chart', {
        type: 'bar',
        data: {
          labels: partners.map((partner) => partner.issuer),
          datasets: [
            { label: t('health.errorRate'), data: partners.map((partner) => partner.errorRate * 100), backgroundColor: '#b3261e' },
            { label: t('health.timeoutRate'), data: partners.map((partner) => partner.timeoutRate * 100), backgroundColor: '#8a5a00' },
          ],
        },
        options: barOptions(false),
      });
    }

    function renderWebhooks(endpoints) {
      const container = document.getElementById('webhooks');
      if (!endpoints.length) return void container.replaceChildren(element('p', { class: 'meta', text: t('webhooks.none') }));
      const count = (connection, failing) => element('td', { class: failing && connection.totalCount > 0 ? 'number failing' : 'number', 'data-count': connection.totalCount, text: numberFormat.format(connection.totalCount) });
      const table = scrollTable(
        { id: 'webhook-endpoints' },
        t('webhooks.caption'),
        [element('th', { scope: 'col', text: t('webhooks.url') }), element('th', { scope: 'col', text: t('webhooks.enabled') }), ...['PENDING', 'DELIVERED', 'FAILED'].map((status) => element('th', { scope: 'col', class: 'number', text: t(`webhooks.statuses.${status}`) }))],
        endpoints.map((endpoint) =>
          element(
            'tr',
            { 'data-endpoint-id': endpoint.id },
            element('th', { scope: 'row', class: 'url', text: endpoint.url }),
            element('td', { text: endpoint.enabled ? t('webhooks.yes') : t('webhooks.no') }),
            count(endpoint.pending, false),
            count(endpoint.delivered, false),
            count(endpoint.failed, true),
          ),
        ),
      );
      const trouble = endpoints
        .flatMap((endpoint) => [...endpoint.failed.edges, ...endpoint.pending.edges].map((edge) => ({ ...edge.node, url: endpoint.url })))
        .filter((delivery) => delivery.status === 'FAILED' || delivery.lastError || delivery.lastResponseStatus)
        .sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1))
        .slice(0, TROUBLE_SHOWN);
      const troubleBlock = trouble.length
        ? scrollTable(
            { id: 'webhook-trouble' },
            t('webhooks.troubleCaption'),
            ['order', 'url', 'status', 'attempts', 'lastAnswer', 'nextAttempt'].map((key) => element('th', { scope: 'col', class: key === 'attempts' ? 'number' : null, text: t(`webhooks.${key}`) })),
            trouble.map((delivery) =>
              element(
                'tr',
                { 'data-ref-id': delivery.refId, 'data-status': delivery.status },
                element('th', { scope: 'row' }, element('a', { href: `/dashboard/orders/${encodeURIComponent(delivery.refId)}?lang=${language}`, text: delivery.refId })),
                element('td', { class: 'url', text: delivery.url }),
                element('td', { text: t(`webhooks.statuses.${delivery.status}`) }),
                element('td', { class: 'number', text: numberFormat.format(delivery.attempts) }),
                element('td', { class: 'url', text: delivery.lastError || (delivery.lastResponseStatus ? String(delivery.lastResponseStatus) : '–') }),
                element('td', { text: delivery.nextAttemptAt ? dateTimeFormat.format(new Date(delivery.nextAttemptAt)) : '–' }),
              ),
            ),
          )
        : element('p', { class: 'meta', text: t('webhooks.noTrouble') });
      container.replaceChildren(table, troubleBlock);
    }

    /** The webhook endpoints, or null when this client may not see them (its section is then hidden). */
    async function loadWebhooks() {
      try {
        return (await graphql(WEBHOOKS)).webhookEndpoints;
      } catch (error) {
        return error.code === 'FORBIDDEN' ? null : undefined;
      }
    }

    function showWebhooks(endpoints) {
      const section = document.querySelector('section.webhooks');
      if (endpoints === undefined) return; // a passing failure: keep what is shown
      section.hidden = endpoints === null;
      if (endpoints) renderWebhooks(endpoints);
    }

    function renderEvent(event) {
      noEvents.hidden = true;
      const link = element('a', { href: `/dashboard/orders/${encodeURIComponent(event.refId)}?lang=${language}`, text: event.refId });
      const what = event.type === 'STATUS_CHANGED' ? `${t(`statuses.${event.status}`)}` : t(`eventTypes.${event.type}`);
      const item = element(
        'li',
        { 'data-ref-id': event.refId, 'data-status': event.status, 'data-sequence': event.sequence },
        element('time', { datetime: event.at, text: timeFormat.format(new Date(event.at)) }),
        ' ',
        link,
        ' ',
        element('span', { class: `badge status-${event.status}`, text: what }),
        event.order && event.order.method ? element('span', { class: 'meta', text: ` ${event.order.method.name} · ${event.order.method.issuer}` }) : null,
        event.reason ? element('span', { class: 'reason', text: ` – ${event.reason}` }) : null,
      );
      eventList.prepend(item);
      while (eventList.children.length > MAX_EVENTS) eventList.lastElementChild.remove();
    }

    function onEvent(event) {
      const sequence = BigInt(event.sequence);
      if (sequence <= lastSeen) return;
      lastSeen = sequence;
      renderEvent(event);
      if (sequence > countedUpTo && event.type === 'STATUS_CHANGED' && new Date(event.order.createdAt).getTime() >= periodFrom) {
        if (event.previousStatus) counts[event.previousStatus] = (counts[event.previousStatus] || 0) - 1;
        else total += 1;
        counts[event.status] = (counts[event.status] || 0) + 1;
        countedUpTo = sequence;
        renderCounts();
      }
      scheduleChartRefresh();
    }

    // One refresh at a time, and the longer the figures take to compute, the rarer: a busy
    // service with a long period must not have its dashboards keep the database busy.
    let refreshing = false;
    let refreshWanted = false;
    let lastRefreshMs = 0;
    function scheduleChartRefresh() {
      if (refreshTimer || refreshing) {
        refreshWanted = true;
        return;
      }
      refreshTimer = setTimeout(async () => {
        refreshTimer = null;
        refreshing = true;
        refreshWanted = false;
        const started = performance.now();
        try {
          await refresh(generation);
        } finally {
          lastRefreshMs = performance.now() - started;
          refreshing = false;
          if (refreshWanted) scheduleChartRefresh();
        }
      }, Math.max(CHART_REFRESH_MS, 4 * lastRefreshMs));
    }

    /** Funnel, timings and health again; the counts too when the figures are at least as new as the stream. */
    async function refresh(forGeneration) {
      let data;
      const webhooks = loadWebhooks();
      try {
        data = await graphql(STATISTICS, { period: periodSelect.value });
      } catch (error) {
        if (error.code === 'UNAUTHENTICATED') return signedOut();
        return;
      }
      const endpoints = await webhooks;
      if (forGeneration !== generation) return;
      showWebhooks(endpoints);
      const stats = data.orderStatistics;
      const asOf = BigInt(stats.asOfSequence);
      if (asOf >= countedUpTo && asOf >= lastSeen) {
        counts = Object.fromEntries(stats.byStatus.map((entry) => [entry.status, entry.count]));
        total = stats.total;
        countedUpTo = asOf;
        renderCounts();
      }
      renderProviders(stats.byProvider);
      renderFunnels(stats.methods);
      renderTimings(stats.methods);
      renderHealth(stats.partnerHealth);
    }

    function connect(forGeneration) {
      if (forGeneration !== generation) return;
      // One stream at a time: a reconnect racing the network's return replaces, not adds.
      if (source) source.close();
      const url = `/graphql?query=${encodeURIComponent(EVENTS)}&variables=${encodeURIComponent(JSON.stringify({ after: lastSeen.toString() }))}`;
      const stream = new EventSource(url);
      source = stream;
      stream.addEventListener('open', () => setStreamState('live'));
      stream.addEventListener('next', (message) => {
        const result = JSON.parse(message.data);
        if (result.data && result.data.orderEvents) onEvent(result.data.orderEvents);
      });
      const lost = () => {
        stream.close();
        if (source !== stream) return;
        source = null;
        setStreamState('reconnecting');
        // A stream that ended may mean the session did: ask before trying again.
        reconnectTimer = setTimeout(async () => {
          try {
            await graphql('{ viewer { clientId } }');
          } catch (error) {
            if (error.code === 'UNAUTHENTICATED' || error.code === 'FORBIDDEN') return setStreamState('ended');
          }
          connect(forGeneration);
        }, RECONNECT_MS);
      };
      stream.addEventListener('complete', lost);
      stream.addEventListener('error', lost);
    }

    async function start() {
      generation += 1;
      const current = generation;
      if (source) source.close();
      source = null;
      clearTimeout(reconnectTimer);
      setStreamState('connecting');
      let data;
      const webhooks = loadWebhooks();
      try {
        data = await graphql(STATISTICS, { period: periodSelect.value });
      } catch (error) {
        if (error.code === 'UNAUTHENTICATED') return signedOut();
        setStreamState('reconnecting');
        reconnectTimer = setTimeout(() => void start(), RECONNECT_MS);
        return;
      }
      if (current !== generation) return;
      const stats = data.orderStatistics;
      document.getElementById('viewer').textContent = t('signedInAs', { name: data.viewer.name, role: data.viewer.role });
      counts = Object.fromEntries(stats.byStatus.map((entry) => [entry.status, entry.count]));
      total = stats.total;
      periodFrom = new Date(stats.from).getTime();
      countedUpTo = BigInt(stats.asOfSequence);
      // The figures include every event up to asOfSequence. The stream starts a little earlier, so
      // that the list shows the latest events at once; those it replays are not counted again.
      lastSeen = countedUpTo > LIST_REPLAY ? countedUpTo - LIST_REPLAY : 0n;
      eventList.replaceChildren();
      noEvents.hidden = false;
      renderCounts();
      renderProviders(stats.byProvider);
      renderFunnels(stats.methods);
      renderTimings(stats.methods);
      renderHealth(stats.partnerHealth);
      showWebhooks(await webhooks);
      connect(current);
    }

    window.addEventListener('pagehide', () => source && source.close());
    // A device that lost its network (a phone in a tunnel) holds a dead stream: drop it, and
    // resume after the last event seen as soon as the network is back.
    window.addEventListener('offline', () => {
      if (!source) return;
      source.close();
      source = null;
      clearTimeout(reconnectTimer);
      setStreamState('reconnecting');
    });
    window.addEventListener('online', () => {
      if (source || streamState.dataset.state !== 'reconnecting') return;
      clearTimeout(reconnectTimer);
      connect(generation);
    });
    void start();
  }

  // ---- one order's timeline ----------------------------------------------------------------------

  async function showTimeline() {
    const main = document.querySelector('main');
    const refId = main.dataset.refId;
    const summary = document.getElementById('order-summary');
    const list = document.getElementById('order-events');
    let data;
    try {
      data = await graphql(
        `query DashboardOrder($refId: ID!) {
          order(refId: $refId) {
            refId status statusReason ipspOrderId createdAt
            method { name issuer }
            events { sequence type status reason at actor }
            evidence { status validUntil terms { status channel decidedAt } }
          }
        }`,
        { refId },
      );
    } catch (error) {
      if (error.code === 'UNAUTHENTICATED') return signedOut();
      summary.replaceChildren(element('p', { class: 'problem', role: 'alert', text: error.message }));
      return;
    }
    const order = data.order;
    if (!order) return void summary.replaceChildren(element('p', { class: 'problem', role: 'alert', text: t('timeline.notFound') }));
    const pair = (label, value) => [element('dt', { text: label }), element('dd', { text: value })];
    summary.replaceChildren(
      ...pair(t('timeline.status'), `${t(`statuses.${order.status}`)}${order.statusReason ? ` – ${order.statusReason}` : ''}`),
      ...pair(t('timeline.method'), `${order.method.name} · ${order.method.issuer}`),
      ...pair('IPSP', order.ipspOrderId || '–'),
      ...pair(t('timeline.evidence'), order.evidence ? `${order.evidence.status} (${dateTimeFormat.format(new Date(order.evidence.validUntil))})` : t('timeline.none')),
      ...pair(t('timeline.terms'), order.evidence ? `${order.evidence.terms.status} (${order.evidence.terms.channel})` : t('timeline.none')),
    );
    list.replaceChildren(
      ...order.events.map((event) =>
        element(
          'li',
          { 'data-status': event.status },
          element('time', { datetime: event.at, text: dateTimeFormat.format(new Date(event.at)) }),
          ' ',
          element('span', { class: `badge status-${event.status}`, text: event.type === 'STATUS_CHANGED' ? t(`statuses.${event.status}`) : t(`eventTypes.${event.type}`) }),
          event.reason ? element('span', { class: 'reason', text: ` – ${event.reason}` }) : null,
        ),
      ),
    );
  }
})();
